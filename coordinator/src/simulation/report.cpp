#include "report.hpp"

#include "fl/coordinator/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace fl::coordinator {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// CSV field: quoted when it holds a comma or a quote (rule names like "krum(f=4)" do not,
// but "bucketing(s=2)+cclip(tau=10,iters=1)" does).
std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.') ? c : '_';
  return out;
}

int refused_rounds(const SettingResult& r) {
  return static_cast<int>(std::count_if(r.rounds.begin(), r.rounds.end(),
                                        [](const RoundRecord& x) { return x.rule_refused; }));
}

// A rule that refused every round never changed the model: its "accuracy" is the initial
// model's, so the tables say so instead of printing a number.
bool refused_all(const SettingResult& r) {
  return !r.rounds.empty() && refused_rounds(r) == static_cast<int>(r.rounds.size());
}

std::string refused_note(const SettingResult& r) {
  return "refused (" + std::to_string(refused_rounds(r)) + " of " +
         std::to_string(r.rounds.size()) + " rounds)";
}

// One summary cell: "84.1 (85.0)", "84.1 (85.0), refused 2 of 10 rounds" or "refused (10 of 10
// rounds)".
std::string accuracy_cell(const SettingResult& r) {
  if (refused_all(r)) return refused_note(r);
  std::string out = fixed(100 * r.final_accuracy, 1) + " (" + fixed(100 * r.best_accuracy, 1) + ")";
  if (const int k = refused_rounds(r); k > 0) {
    out += ", refused " + std::to_string(k) + " of " + std::to_string(r.rounds.size()) + " rounds";
  }
  return out;
}

Error open_failed(const std::filesystem::path& path) {
  return make_error(ErrorCode::kIo, "cannot write " + path.string());
}

// Results grouped by (partition, Byzantine count), in sweep order.
using GroupKey = std::pair<std::string, int>;
std::vector<GroupKey> groups_of(std::span<const SettingResult> results) {
  std::vector<GroupKey> keys;
  for (const auto& r : results) {
    GroupKey k{r.setting.partition, r.setting.byzantine};
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
  return keys;
}

template <typename T>
void push_unique(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

const SettingResult* find_result(std::span<const SettingResult> results, const GroupKey& g,
                                 const std::string& rule, ByzantineAttack attack) {
  for (const auto& r : results) {
    if (r.setting.partition == g.first && r.setting.byzantine == g.second &&
        r.setting.rule == rule && r.setting.attack == attack) {
      return &r;
    }
  }
  return nullptr;
}

// Clean FedAvg in the group, else clean FedAvg of the same partition at any Byzantine count
// (with no attack, the count only changes the f that rules assume, which FedAvg ignores).
const SettingResult* clean_fedavg(std::span<const SettingResult> results, const GroupKey& g) {
  if (const auto* r = find_result(results, g, "fedavg", ByzantineAttack::kNone)) return r;
  for (const auto& r : results) {
    if (r.setting.partition == g.first && r.setting.rule == "fedavg" &&
        r.setting.attack == ByzantineAttack::kNone) {
      return &r;
    }
  }
  return nullptr;
}

void write_group_markdown(std::ostream& md, const SweepConfig& config,
                          std::span<const SettingResult> results, const GroupKey& g) {
  std::vector<std::string> rules;
  std::vector<ByzantineAttack> attacks;
  for (const auto& r : results) {
    if (r.setting.partition != g.first || r.setting.byzantine != g.second) continue;
    push_unique(rules, r.setting.rule);
    push_unique(attacks, r.setting.attack);
  }
  md << "### " << g.first << ", " << g.second << " Byzantine of " << config.workers
     << " workers\n\n";
  const auto* a0 = clean_fedavg(results, g);
  if (a0) {
    md << "A0 (clean FedAvg, final test accuracy after " << a0->rounds.size()
       << " rounds): **" << fixed(100 * a0->final_accuracy, 1) << "%**\n\n";
  } else {
    md << "A0: no clean FedAvg run in this sweep (add \"fedavg\" and \"none\").\n\n";
  }
  md << "Final test accuracy, % (best over the rounds in parentheses):\n\n| rule |";
  for (auto a : attacks) md << " " << to_string(a) << " |";
  if (a0) md << " worst drop vs A0 |";
  md << "\n|---|";
  for (std::size_t i = 0; i < attacks.size(); ++i) md << "---:|";
  if (a0) md << "---:|";
  md << "\n";

  std::vector<std::string> within;
  for (const auto& rule : rules) {
    md << "| " << rule << " |";
    double worst = -1e9;
    bool complete = true;
    bool refused = false;
    for (auto a : attacks) {
      const auto* r = find_result(results, g, rule, a);
      if (!r) {
        md << " – |";
        complete = false;
        continue;
      }
      md << " " << accuracy_cell(*r) << " |";
      refused |= refused_all(*r);
      if (a0 && !refused_all(*r)) {
        worst = std::max(worst, 100 * (a0->final_accuracy - r->final_accuracy));
      }
    }
    if (a0) md << " " << (refused ? std::string("refused") : fixed(worst, 1)) << " |";
    complete = complete && !refused;
    md << "\n";
    if (a0 && complete && worst <= kWithinPoints) within.push_back(rule);
  }
  md << "\n";
  if (!a0) return;
  md << "Within " << fixed(kWithinPoints, 0) << " points of A0 under every attack above: ";
  if (within.empty()) md << "none";
  for (std::size_t i = 0; i < within.size(); ++i) md << (i ? ", " : "") << "`" << within[i] << "`";
  md << ".\n\n";
  std::vector<std::string> collapses;
  for (auto a : attacks) {
    const auto* r = find_result(results, g, "fedavg", a);
    if (r && !refused_all(*r) && 100 * (a0->final_accuracy - r->final_accuracy) > kCollapsePoints) {
      collapses.emplace_back(to_string(a));
    }
  }
  if (find_result(results, g, "fedavg", ByzantineAttack::kNone) || !collapses.empty()) {
    md << "FedAvg loses more than " << fixed(kCollapsePoints, 0) << " points under: ";
    if (collapses.empty()) md << "none";
    for (std::size_t i = 0; i < collapses.size(); ++i) md << (i ? ", " : "") << collapses[i];
    md << ".\n\n";
  }
}

}  // namespace

Result<RoundsCsv> RoundsCsv::create(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return open_failed(path);
  out << "setting,rule,rule_name,attack,byzantine,partition,round,test_accuracy,test_loss,"
         "train_loss,accepted,rejected,rule_refused,top_score_share,seconds\n";
  out.flush();
  return RoundsCsv(std::move(out));
}

void RoundsCsv::write(const SimulationSetting& s, const std::string& rule_name,
                      const RoundRecord& r) {
  out_ << csv(s.id()) << ',' << csv(s.rule) << ',' << csv(rule_name) << ',' << to_string(s.attack)
       << ',' << s.byzantine << ',' << csv(s.partition) << ',' << r.round << ','
       << fixed(r.test_accuracy, 4) << ',' << fixed(r.test_loss, 4) << ','
       << fixed(r.train_loss, 4) << ',' << r.accepted << ',' << r.rejected << ','
       << (r.rule_refused ? 1 : 0) << ',' << fixed(r.top_score_share, 4) << ','
       << fixed(r.seconds, 3) << '\n';
  out_.flush();  // a sweep stopped half-way still leaves every finished round
}

Status write_summary_csv(const std::filesystem::path& path,
                         std::span<const SettingResult> results) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return open_failed(path);
  out << "rule,rule_name,attack,byzantine,partition,rounds,refused_rounds,final_accuracy,"
         "best_accuracy,best_round,seconds\n";
  for (const auto& r : results) {
    out << csv(r.setting.rule) << ',' << csv(r.rule_name) << ',' << to_string(r.setting.attack)
        << ',' << r.setting.byzantine << ',' << csv(r.setting.partition) << ','
        << r.rounds.size() << ',' << refused_rounds(r) << ',';
    if (refused_all(r)) {  // no accuracy of this rule's: the model never moved
      out << ",,";
    } else {
      out << fixed(r.final_accuracy, 4) << ',' << fixed(r.best_accuracy, 4);
    }
    out << ',' << r.best_round << ',' << fixed(r.seconds, 1) << '\n';
  }
  if (!out) return open_failed(path);
  return ok_status();
}

Status write_summary_markdown(const std::filesystem::path& path, const SweepConfig& config,
                              std::span<const SettingResult> results) {
  std::ofstream md(path, std::ios::trunc);
  if (!md) return open_failed(path);
  for (const auto& g : groups_of(results)) write_group_markdown(md, config, results, g);
  if (!md) return open_failed(path);
  return ok_status();
}

Result<std::vector<std::string>> write_accuracy_plots(const std::filesystem::path& dir,
                                                      const SweepConfig& config,
                                                      std::span<const SettingResult> results) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message());
  std::vector<std::string> files;
  for (const auto& g : groups_of(results)) {
    std::vector<ByzantineAttack> attacks;
    for (const auto& r : results) {
      if (r.setting.partition == g.first && r.setting.byzantine == g.second) {
        push_unique(attacks, r.setting.attack);
      }
    }
    for (auto a : attacks) {
      std::vector<PlotSeries> series;
      for (const auto& r : results) {
        if (r.setting.partition != g.first || r.setting.byzantine != g.second ||
            r.setting.attack != a) {
          continue;
        }
        PlotSeries s{r.setting.rule, {}, {}};
        if (const int k = refused_rounds(r); k > 0) {
          s.label += refused_all(r) ? " (refused all)" : " (refused " + std::to_string(k) + ")";
        }
        for (const auto& round : r.rounds) {
          s.values.push_back(round.test_accuracy);
          s.refused.push_back(round.rule_refused);
        }
        series.push_back(std::move(s));
      }
      const std::string title = std::string(to_string(a)) + " — " + std::to_string(g.second) +
                                " Byzantine of " + std::to_string(config.workers) + ", " +
                                g.first + ", " + config.model;
      const std::string name = std::string(to_string(a)) + "_f" + std::to_string(g.second) + "_" +
                               file_safe(g.first) + ".svg";
      std::ofstream out(dir / name, std::ios::trunc);
      out << accuracy_chart_svg(title, series);
      if (!out) return open_failed(dir / name);
      files.push_back(name);
    }
  }
  return files;
}

std::string accuracy_chart_svg(const std::string& title, std::span<const PlotSeries> series) {
  LineChart chart;
  chart.title = title;
  chart.y = ChartAxis{"test accuracy (%)", 0, 1, 10, 100};
  chart.markers = {"refused", "rule refused", "rule refused the round"};
  for (const auto& s : series) chart.series.push_back({s.label, {}, s.values, s.refused});
  return line_chart_svg(chart);
}

}  // namespace fl::coordinator
