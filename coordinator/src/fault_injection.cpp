#include "fl/coordinator/fault_injection.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace fl::coordinator {

void fault_point(std::string_view step, std::uint64_t round) {
  const char* spec = std::getenv("FL_FAULT_AT");
  if (!spec) return;
  if (std::string(spec) != std::string(step) + ":" + std::to_string(round)) return;
  spdlog::critical("FL_FAULT_AT={}: killing the coordinator (test fault injection)", spec);
  spdlog::default_logger()->flush();
  std::raise(SIGKILL);
}

bool tamper_with_aggregate(std::uint64_t round) {
  const char* spec = std::getenv("FL_FAULT_TAMPER");
  if (!spec || std::string(spec) != "aggregate:" + std::to_string(round)) return false;
  spdlog::critical("FL_FAULT_TAMPER={}: RESEARCH MODE, round {} publishes a model its updates do not produce", spec,
                   round);
  return true;
}

}  // namespace fl::coordinator
