// job.toml as fl-coordinator reads it: TOML parsing, every typed getter, rule and scorer specs;
// the same text as an edge coordinator's config.
#include <cstdint>

#include "fl/coordinator/job_config.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Relative paths resolve against a folder that does not exist, so nothing real is read.
  (void)fl::coordinator::parse_job_config(fl::fuzz::as_text(data, size), "job.toml",
                                          "/nonexistent/fl-fuzz");
  (void)fl::coordinator::parse_edge_config(fl::fuzz::as_text(data, size), "edge.toml", "/nonexistent/fl-fuzz");
  return 0;
}
