#include "fl/common/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <vector>

namespace fl::common {

Status init_logging(std::string_view level, std::string_view name, const std::string& file) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return make_error(ErrorCode::kInvalidArgument, "unknown log level '" + std::string(level) +
                                                       "' (trace, debug, info, warn, error, off)");
  }
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    } catch (const spdlog::spdlog_ex& e) {
      return make_error(ErrorCode::kIo, "cannot open log file " + file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(name), sinks.begin(), sinks.end());
  logger->set_level(parsed);
  logger->set_pattern("%H:%M:%S.%e %n %^%l%$ %v");
  // A crash (kill -9) must not take the log with it: warnings and errors are written at once,
  // the rest within a second (and the coordinator flushes at each round).
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  return ok_status();
}

}  // namespace fl::common
