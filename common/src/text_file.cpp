#include "fl/common/text_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fl::common {

Result<std::string> read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return make_error(ErrorCode::kInvalidArgument, path.string() + " is a folder, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const auto code = std::filesystem::exists(path, ec) ? ErrorCode::kIo : ErrorCode::kNotFound;
    return make_error(code, "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(ErrorCode::kIo, "cannot read " + path.string() + ": read error");
  return text.str();
}

}  // namespace fl::common
