// `fl-coordinator simulate --config sweep.toml`: runs every setting of a sweep (research mode)
// and writes, under the output folder, config.toml (the sweep verbatim), rounds.csv (one row per
// setting and round, written as rounds finish), summary.csv and summary.md (final and best test
// accuracy per rule x attack, the clean-FedAvg reference A0 and each rule's worst drop from it),
// and plots/*.svg (test accuracy per round, one chart per attack, one line per rule).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct SimulationOverrides {
  std::optional<std::filesystem::path> output_dir;  // instead of [simulation].output_dir
  bool show_progress = true;  // progress bar on stderr (a line per setting when not a terminal)
  std::string filter;         // run only settings whose id contains this text (empty: all)
  int threads = 0;            // instead of [simulation].threads when > 0
};

Status run_simulation(const std::filesystem::path& config, const SimulationOverrides& overrides);

}  // namespace fl::coordinator
