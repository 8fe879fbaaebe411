// `fl-coordinator compare RUN_DIR...`: the test accuracy per round of several runs side by side,
// as a table for the terminal and as one SVG chart, read from each run's metrics.jsonl (so runs
// of different rules, models or settings can be compared after the fact).
#pragma once

#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/run_plots.hpp"

namespace fl::coordinator {

struct ComparedRun {
  std::string label;  // the folder's name, or its path as given when two names are the same
  std::vector<RoundAccuracy> rounds;
};

// Each folder's history; fails naming the first folder without a readable metrics.jsonl.
Result<std::vector<ComparedRun>> load_compared_runs(std::span<const std::filesystem::path> dirs);

// One row per round (a run without that round shows "-"), then each run's final and best
// accuracy, in percent; first a line per run naming its rule.
std::string comparison_table(std::span<const ComparedRun> runs);
std::string comparison_chart_svg(std::span<const ComparedRun> runs);

// The command: prints the table to `out` and writes the chart to `svg_path`.
Status compare_runs(std::span<const std::filesystem::path> dirs,
                    const std::filesystem::path& svg_path, std::ostream& out);

}  // namespace fl::coordinator
