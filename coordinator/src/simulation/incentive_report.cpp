#include "incentive_report.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>

namespace fl::coordinator {

namespace {

double sum_over(const std::vector<double>& v, std::span<const int> ids) {
  double s = 0;
  for (int i : ids) {
    if (i >= 0 && static_cast<std::size_t>(i) < v.size()) s += v[static_cast<std::size_t>(i)];
  }
  return s;
}

double mean_accuracy(const SettingResult& r) {
  if (r.rounds.empty()) return 0;
  double s = 0;
  for (const auto& x : r.rounds) s += x.test_accuracy;
  return s / static_cast<double>(r.rounds.size());
}

const SettingResult* clean_counterpart(std::span<const SettingResult> results, const SettingResult& r) {
  for (const auto& c : results) {
    if (c.setting.attack == ByzantineAttack::kNone && c.setting.byzantine == 0 &&
        c.setting.rule == r.setting.rule && c.setting.partition == r.setting.partition &&
        c.scorer == r.scorer) {
      return &c;
    }
  }
  return nullptr;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::vector<IncentiveRow> incentive_rows(std::span<const SettingResult> results) {
  std::vector<IncentiveRow> rows;
  for (const auto& r : results) {
    if (r.setting.attack == ByzantineAttack::kNone) continue;
    const auto* clean = clean_counterpart(results, r);
    if (clean == nullptr) continue;
    IncentiveRow row;
    row.id = r.setting.id();
    row.strategy = std::string(to_string(r.setting.attack));
    row.rule = r.rule_name;
    row.scorer = r.scorer;
    row.partition = r.setting.partition;
    // Honest ids: the clean run's workers that are not strategic here.
    std::vector<int> honest;
    for (std::size_t i = 0; i < clean->rewards.size(); ++i) {
      if (std::find(r.strategic.begin(), r.strategic.end(), static_cast<int>(i)) == r.strategic.end()) {
        honest.push_back(static_cast<int>(i));
      }
    }
    const double earned = sum_over(r.rewards, r.strategic);
    if (r.setting.attack == ByzantineAttack::kRich) {
      const double poor = honest.empty() ? 0 : sum_over(r.rewards, honest) / static_cast<double>(honest.size());
      row.gain = poor > 0 ? earned / poor : 0;
    } else {
      std::vector<int> same_data = r.strategic;
      if (r.setting.attack == ByzantineAttack::kSybil) same_data = {0};
      const double honestly = sum_over(clean->rewards, same_data);
      row.gain = honestly > 0 ? earned / honestly : 0;
    }
    const double kept = sum_over(clean->rewards, honest);
    row.honest_kept = kept > 0 ? sum_over(r.rewards, honest) / kept : 0;
    row.accuracy_delta = 100 * (mean_accuracy(r) - mean_accuracy(*clean));
    double share = 0;
    for (const auto& x : r.rounds) {
      share += x.seconds > 0 ? x.scoring_seconds / x.seconds : 0;
      for (int id : x.screened) {
        const bool strategic = std::find(r.strategic.begin(), r.strategic.end(), id) != r.strategic.end();
        ++(strategic ? row.free_riders : row.honest_screened);
      }
      row.copies += x.copies;
    }
    row.scoring_share = r.rounds.empty() ? 0 : share / static_cast<double>(r.rounds.size());
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> write_incentive_report(const std::filesystem::path& dir,
                                           std::span<const SettingResult> results) {
  const auto rows = incentive_rows(results);
  if (rows.empty()) return std::string{};
  std::ofstream csv(dir / "incentives.csv", std::ios::trunc);
  if (!csv) return make_error(ErrorCode::kIo, "cannot write " + (dir / "incentives.csv").string());
  csv << "setting,strategy,rule,scorer,partition,gain,honest_kept,accuracy_delta_points,"
         "scoring_share,free_riders,honest_screened,copies\n";
  std::string md =
      "| strategy | rule | scorer | partition | gain | honest kept | accuracy (points) | "
      "scoring share | screened | honest screened | copies |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    csv << '"' << r.id << "\"," << r.strategy << ",\"" << r.rule << "\"," << r.scorer << ','
        << r.partition << ',' << fixed(r.gain, 4) << ',' << fixed(r.honest_kept, 4) << ','
        << fixed(r.accuracy_delta, 2) << ',' << fixed(r.scoring_share, 4) << ',' << r.free_riders
        << ',' << r.honest_screened << ',' << r.copies << '\n';
    md += "| " + r.strategy + " | " + r.rule + " | " + r.scorer + " | " + r.partition + " | " +
          fixed(r.gain, 2) + " | " + fixed(100 * r.honest_kept, 0) + "% | " +
          fixed(r.accuracy_delta, 1) + " | " + fixed(100 * r.scoring_share, 1) + "% | " +
          std::to_string(r.free_riders) + " | " + std::to_string(r.honest_screened) + " | " +
          std::to_string(r.copies) + " |\n";
  }
  std::ofstream(dir / "incentives.md", std::ios::trunc)
      << "# Incentives: gain of each strategy (strategic earnings / the same data's honest "
         "earnings)\n\n"
      << md;
  return md;
}

std::vector<ScoringRow> scoring_rows(std::span<const SettingResult> results) {
  std::vector<ScoringRow> rows;
  for (const auto& r : results) {
    ScoringRow row{r.setting.id(), r.rule_name, r.scorer};
    double sum = 0;
    row.spearman_min = 1;
    for (const auto& x : r.rounds) {
      ++row.rounds;
      row.paid += x.budget;
      row.scoring_share += x.seconds > 0 ? x.scoring_seconds / x.seconds : 0;
      row.round_seconds += x.seconds;
      if (x.budget < 1) ++row.no_improvement;
      row.screened += static_cast<int>(x.screened.size());
      if (x.shapley_spearman) {
        ++row.shapley_rounds;
        sum += *x.shapley_spearman;
        row.spearman_min = std::min(row.spearman_min, *x.shapley_spearman);
      }
    }
    row.spearman_mean = row.shapley_rounds ? sum / row.shapley_rounds : 0;
    if (row.rounds) {
      row.scoring_share /= row.rounds;
      row.round_seconds /= row.rounds;
    }
    if (!row.shapley_rounds) row.spearman_min = 0;
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> write_scoring_report(const std::filesystem::path& dir,
                                         std::span<const SettingResult> results) {
  const auto rows = scoring_rows(results);
  std::ofstream csv(dir / "scoring.csv", std::ios::trunc);
  if (!csv) return make_error(ErrorCode::kIo, "cannot write " + (dir / "scoring.csv").string());
  csv << "setting,rule,scorer,rounds,no_improvement_rounds,paid,shapley_rounds,spearman_mean,spearman_min,"
         "scoring_share,round_seconds,screened\n";
  std::string md =
      "| setting | scorer | rounds | no improvement (paid 1/10) | paid of rounds | Spearman vs exact "
      "Shapley (mean, min) | scoring share | round (s) | screened |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    csv << '"' << r.id << "\",\"" << r.rule << "\"," << r.scorer << ',' << r.rounds << ',' << r.no_improvement
        << ',' << fixed(r.paid, 2) << ',' << r.shapley_rounds << ',' << fixed(r.spearman_mean, 3) << ','
        << fixed(r.spearman_min, 3) << ',' << fixed(r.scoring_share, 4) << ',' << fixed(r.round_seconds, 3) << ','
        << r.screened << '\n';
    md += "| " + r.id + " | " + r.scorer + " | " + std::to_string(r.rounds) + " | " +
          std::to_string(r.no_improvement) + " | " + fixed(r.paid, 1) + " | " +
          (r.shapley_rounds ? fixed(r.spearman_mean, 2) + ", " + fixed(r.spearman_min, 2) : std::string("-")) +
          " | " + fixed(100 * r.scoring_share, 1) + "% | " + fixed(r.round_seconds, 2) + " | " +
          std::to_string(r.screened) + " |\n";
  }
  std::ofstream(dir / "scoring.md", std::ios::trunc) << "# Scoring: rank correlation with exact Shapley and what rounds paid\n\n"
                                                     << md;
  return md;
}

}  // namespace fl::coordinator
