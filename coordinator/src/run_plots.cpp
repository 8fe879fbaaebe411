#include "fl/coordinator/run_plots.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "fl/coordinator/svg_chart.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::coordinator {
namespace {

constexpr std::size_t kNamedWorkers = 9;  // more lines than this and the legend is unreadable

Status write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.flush();
  if (!out) return make_error(ErrorCode::kIo, "cannot write " + path.string());
  return ok_status();
}

// A number, or NaN where the writer had one (JSON has no NaN: nlohmann writes null).
std::optional<double> number_or_nan(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!it->is_number()) return std::nullopt;
  return it->get<double>();
}

Result<RoundAccuracy> parse_row(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::kCorrupt, "not a JSON object");
  }
  const auto round = j.find("round");
  const auto accuracy = number_or_nan(j, "test_accuracy");
  const auto loss = number_or_nan(j, "test_loss");
  if (round == j.end() || !round->is_number_unsigned() || !accuracy || !loss) {
    return make_error(ErrorCode::kCorrupt, "round, test_accuracy and test_loss must be numbers");
  }
  RoundAccuracy r;
  r.round = round->get<std::uint64_t>();
  r.test_accuracy = *accuracy;
  r.test_loss = *loss;
  if (const auto rule = j.find("rule"); rule != j.end() && rule->is_string()) {
    r.rule = rule->get<std::string>();
  }
  return r;
}

}  // namespace

Result<std::vector<RoundAccuracy>> read_round_accuracy(const std::filesystem::path& run_dir) {
  const auto path = run_dir / "metrics.jsonl";
  std::ifstream in(path);
  if (!in) {
    return make_error(
        ErrorCode::kNotFound,
        "no " + path.string() +
            " (is this a run folder of fl-coordinator run, with at least one round?)");
  }
  std::map<std::uint64_t, RoundAccuracy> by_round;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    auto row = parse_row(line);
    if (!row.ok()) {
      return make_error(ErrorCode::kCorrupt, path.string() + " line " + std::to_string(number) +
                                                 ": " + row.error().message);
    }
    const auto round = row->round;
    by_round[round] = std::move(row).value();
  }
  std::vector<RoundAccuracy> out;
  out.reserve(by_round.size());
  for (auto& [round, row] : by_round) out.push_back(std::move(row));
  return out;
}

Result<std::vector<WorkerEarnings>> read_worker_earnings(const std::filesystem::path& run_dir,
                                                         const std::string& job_id) {
  const auto db = run_dir / "ledger.db";
  std::error_code ec;
  if (!std::filesystem::exists(db, ec))
    return make_error(ErrorCode::kNotFound, "no ledger at " + db.string());
  FL_ASSIGN_OR_RETURN(const auto chain, ledger::load_chain(db));
  const auto rounds = ledger::rounds_of(chain, job_id);
  std::map<common::PublicKey, std::size_t> index;
  std::vector<WorkerEarnings> out;
  for (const auto& summary : rounds) {
    for (const auto& u : summary.updates) {
      if (u.accepted && index.emplace(u.worker, out.size()).second) {
        out.push_back({common::short_id(u.worker), {}, {}});
      }
    }
  }
  std::vector<double> totals(out.size(), 0.0);
  for (const auto& summary : rounds) {
    for (const auto& u : summary.updates) {
      if (u.accepted) totals[index.at(u.worker)] += static_cast<double>(u.reward);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i].rounds.push_back(summary.round);
      out[i].cumulative.push_back(totals[i]);
    }
  }
  std::sort(out.begin(), out.end(), [](const WorkerEarnings& a, const WorkerEarnings& b) {
    if (a.cumulative.back() != b.cumulative.back())
      return a.cumulative.back() > b.cumulative.back();
    return a.worker < b.worker;
  });
  return out;
}

std::string run_accuracy_chart_svg(const std::string& job_id,
                                   std::span<const RoundAccuracy> rounds) {
  LineChart chart;
  chart.title = "job '" + job_id + "'" + (rounds.empty() ? "" : ", " + rounds.back().rule) +
                ": test accuracy and loss per round";
  chart.y = ChartAxis{"test accuracy (%)", 0, 1, 10, 100};
  double max_loss = 0;
  ChartSeries accuracy{"test accuracy", {}, {}, {}, false, false};
  ChartSeries loss{"test loss (right axis)", {}, {}, {}, true, true};
  for (const auto& r : rounds) {
    accuracy.rounds.push_back(r.round);
    accuracy.values.push_back(r.test_accuracy);
    loss.rounds.push_back(r.round);
    loss.values.push_back(r.test_loss);
    if (std::isfinite(r.test_loss)) max_loss = std::max(max_loss, r.test_loss);
  }
  chart.y_right = axis_up_to(max_loss, "test loss");
  chart.series = {std::move(accuracy), std::move(loss)};
  return line_chart_svg(chart);
}

std::string run_rewards_chart_svg(const std::string& job_id,
                                  std::span<const WorkerEarnings> workers) {
  LineChart chart;
  chart.title = "job '" + job_id + "': tokens earned per worker (cumulative)";
  double top = 0;
  for (const auto& w : workers)
    top = std::max(top, w.cumulative.empty() ? 0.0 : w.cumulative.back());
  chart.y = axis_up_to(top, "tokens earned", 10);
  const bool grouped = workers.size() > kNamedWorkers + 1;
  const std::size_t named = grouped ? kNamedWorkers : workers.size();
  for (std::size_t i = 0; i < named; ++i) {
    chart.series.push_back(
        {workers[i].worker, workers[i].rounds, workers[i].cumulative, {}, false, false});
  }
  if (grouped) {  // the rest as one line: their mean
    const std::size_t rest = workers.size() - named;
    ChartSeries mean{
        std::to_string(rest) + " others (mean)", workers[named].rounds, {}, {}, false, true};
    mean.values.assign(mean.rounds.size(), 0.0);
    for (std::size_t i = named; i < workers.size(); ++i) {
      for (std::size_t k = 0; k < mean.values.size() && k < workers[i].cumulative.size(); ++k) {
        mean.values[k] += workers[i].cumulative[k] / static_cast<double>(rest);
      }
    }
    chart.series.push_back(std::move(mean));
  }
  return line_chart_svg(chart);
}

Result<std::vector<std::filesystem::path>> write_run_plots(const std::filesystem::path& run_dir,
                                                           const std::string& job_id) {
  std::vector<std::filesystem::path> written;
  auto rounds = read_round_accuracy(run_dir);
  if (!rounds.ok() && rounds.error().code != ErrorCode::kNotFound) return rounds.error();
  if (rounds.ok() && !rounds->empty()) {
    FL_RETURN_IF_ERROR(
        write_text(run_dir / "accuracy.svg", run_accuracy_chart_svg(job_id, *rounds)));
    written.push_back(run_dir / "accuracy.svg");
  }
  auto earnings = read_worker_earnings(run_dir, job_id);
  if (!earnings.ok() && earnings.error().code != ErrorCode::kNotFound) return earnings.error();
  if (earnings.ok() && !earnings->empty()) {
    FL_RETURN_IF_ERROR(
        write_text(run_dir / "rewards.svg", run_rewards_chart_svg(job_id, *earnings)));
    written.push_back(run_dir / "rewards.svg");
  }
  return written;
}

RunPlotsOnExit::~RunPlotsOnExit() {
  try {
    auto written = write_run_plots(run_dir_, job_id_);
    if (!written.ok()) {
      spdlog::warn("could not draw the run's plots: {}", written.error().to_string());
      return;
    }
    for (const auto& p : *written) spdlog::info("wrote {}", p.string());
  } catch (const std::exception& e) {  // a destructor must not throw; plots are a convenience
    spdlog::warn("could not draw the run's plots: {}", e.what());
  }
}

}  // namespace fl::coordinator
