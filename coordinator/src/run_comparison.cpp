#include "fl/coordinator/run_comparison.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "fl/coordinator/svg_chart.hpp"

namespace fl::coordinator {
namespace {

std::string folder_name(const std::filesystem::path& dir) {
  auto p = dir.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "runs/a/" names "a"
  const auto name = p.filename().string();
  return name.empty() || name == "." || name == ".." ? dir.string() : name;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 100 * fraction);
  return buf;
}

std::string pad_left(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

const RoundAccuracy* best_of(const ComparedRun& run) {
  const RoundAccuracy* best = nullptr;
  for (const auto& r : run.rounds) {
    if (!best || r.test_accuracy > best->test_accuracy) best = &r;
  }
  return best;
}

}  // namespace

Result<std::vector<ComparedRun>> load_compared_runs(std::span<const std::filesystem::path> dirs) {
  std::vector<ComparedRun> runs;
  std::map<std::string, int> names;
  for (const auto& dir : dirs) ++names[folder_name(dir)];
  for (const auto& dir : dirs) {
    FL_ASSIGN_OR_RETURN(auto rounds, read_round_accuracy(dir));
    const auto name = folder_name(dir);
    runs.push_back({names[name] > 1 ? dir.string() : name, std::move(rounds)});
  }
  return runs;
}

std::string comparison_table(std::span<const ComparedRun> runs) {
  std::string out;
  std::set<std::uint64_t> all_rounds;
  for (const auto& run : runs) {
    out += run.label + ": " + std::to_string(run.rounds.size()) + " rounds" +
           (run.rounds.empty() ? "" : ", rule " + run.rounds.back().rule) + "\n";
    for (const auto& r : run.rounds) all_rounds.insert(r.round);
  }
  std::vector<std::size_t> width;
  out += "\ntest accuracy (%)\n" + pad_left("round", 6);
  for (const auto& run : runs) {
    width.push_back(std::max<std::size_t>(run.label.size(), 7));
    out += "  " + pad_left(run.label, width.back());
  }
  out += "\n";
  auto row = [&](const std::string& name, auto cell) {
    out += pad_left(name, 6);
    for (std::size_t i = 0; i < runs.size(); ++i) out += "  " + pad_left(cell(runs[i]), width[i]);
    out += "\n";
  };
  for (const auto round : all_rounds) {
    row(std::to_string(round), [&](const ComparedRun& run) -> std::string {
      for (const auto& r : run.rounds) {
        if (r.round == round) return percent(r.test_accuracy);
      }
      return "-";
    });
  }
  row("final", [](const ComparedRun& run) -> std::string {
    return run.rounds.empty() ? "-" : percent(run.rounds.back().test_accuracy);
  });
  row("best", [](const ComparedRun& run) -> std::string {
    const auto* b = best_of(run);
    return b ? percent(b->test_accuracy) + " (" + std::to_string(b->round) + ")" : "-";
  });
  return out;
}

std::string comparison_chart_svg(std::span<const ComparedRun> runs) {
  LineChart chart;
  chart.title = "test accuracy per round";
  chart.y = ChartAxis{"test accuracy (%)", 0, 1, 10, 100};
  for (const auto& run : runs) {
    ChartSeries s;
    s.label = run.label + (run.rounds.empty() ? "" : " (" + run.rounds.back().rule + ")");
    for (const auto& r : run.rounds) {
      s.rounds.push_back(r.round);
      s.values.push_back(r.test_accuracy);
    }
    chart.series.push_back(std::move(s));
  }
  return line_chart_svg(chart);
}

Status compare_runs(std::span<const std::filesystem::path> dirs,
                    const std::filesystem::path& svg_path, std::ostream& out) {
  if (dirs.empty())
    return make_error(ErrorCode::kInvalidArgument, "name at least one run folder to compare");
  FL_ASSIGN_OR_RETURN(const auto runs, load_compared_runs(dirs));
  out << comparison_table(runs);
  std::ofstream svg(svg_path, std::ios::trunc);
  svg << comparison_chart_svg(runs);
  svg.flush();
  if (!svg) return make_error(ErrorCode::kIo, "cannot write the chart to " + svg_path.string());
  out << "\nchart: " << svg_path.string() << "\n";
  return ok_status();
}

}  // namespace fl::coordinator
