// sweep.toml as `fl-coordinator simulate` reads it, and the runs it expands to.
#include <cstdint>

#include "fl/coordinator/simulation/sweep_config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl::coordinator;
  auto config = parse_sweep_config(fl::fuzz::as_text(data, size), "sweep.toml", "/nonexistent/fl-fuzz");
  if (config.ok()) {
    for (const auto& setting : expand_sweep(*config)) (void)setting.id();
  }
  return 0;
}
