// Process-wide logging set-up (spdlog): one call at start-up from each binary's main.
#pragma once

#include <string>
#include <string_view>

#include "fl/common/result.hpp"

namespace fl::common {

// level: trace, debug, info, warn, error, off. `name` prefixes each line ("coordinator").
// When `file` is non-empty, lines also go to that file.
Status init_logging(std::string_view level, std::string_view name, const std::string& file = "");

}  // namespace fl::common
