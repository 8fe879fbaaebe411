// A whole file read into a string, with an error that names the file and why it could not be
// read (missing, a folder, unreadable).
#pragma once

#include <filesystem>
#include <string>

#include "fl/common/result.hpp"

namespace fl::common {

Result<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace fl::common
