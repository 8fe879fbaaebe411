// What a sweep leaves on disk: rounds.csv rows as rounds finish, then summary.csv, summary.md
// and one SVG accuracy-per-round chart per (partition, Byzantine count, attack). No torch.
#pragma once

#include <filesystem>
#include <fstream>
#include <span>
#include <string>

#include "fl/common/result.hpp"
#include "fl/coordinator/simulation/simulator.hpp"

namespace fl::coordinator {

// A rule is "within" when its final accuracy under every attack is at most this many points
// below A0 (clean FedAvg); FedAvg "collapses" under an attack that costs it more than kCollapse.
inline constexpr double kWithinPoints = 5.0;
inline constexpr double kCollapsePoints = 30.0;

class RoundsCsv {
 public:
  static Result<RoundsCsv> create(const std::filesystem::path& path);
  void write(const SimulationSetting& setting, const std::string& rule_name,
             const RoundRecord& record);

 private:
  explicit RoundsCsv(std::ofstream out) : out_(std::move(out)) {}
  std::ofstream out_;
};

Status write_summary_csv(const std::filesystem::path& path, std::span<const SettingResult> results);
Status write_summary_markdown(const std::filesystem::path& path, const SweepConfig& config,
                              std::span<const SettingResult> results);
// One chart per (partition, Byzantine count, attack) under `dir`; returns the file names.
Result<std::vector<std::string>> write_accuracy_plots(const std::filesystem::path& dir,
                                                      const SweepConfig& config,
                                                      std::span<const SettingResult> results);

// Test accuracy per round as an SVG line chart, one line per series.
struct PlotSeries {
  std::string label;
  std::vector<double> values;  // accuracy in [0, 1] for rounds 1..n
  std::vector<bool> refused;   // per round: the rule refused (drawn as a hollow marker)
};
std::string accuracy_chart_svg(const std::string& title, std::span<const PlotSeries> series);

}  // namespace fl::coordinator
