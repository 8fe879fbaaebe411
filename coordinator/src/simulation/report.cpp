#include "report.hpp"

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

std::string xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
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
  static constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                            "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                            "#bcbd22", "#17becf"};
  constexpr double kW = 760, kH = 420, kLeft = 56, kRight = 210, kTop = 36, kBottom = 48;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  std::size_t rounds = 1;
  for (const auto& s : series) rounds = std::max(rounds, s.values.size());
  auto x_of = [&](std::size_t round) {  // round is 1-based
    return kLeft + (rounds == 1 ? pw / 2 : pw * static_cast<double>(round - 1) /
                                               static_cast<double>(rounds - 1));
  };
  auto y_of = [&](double acc) { return kTop + ph * (1.0 - std::clamp(acc, 0.0, 1.0)); };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH
      << "\" viewBox=\"0 0 " << kW << ' ' << kH << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" << xml(title)
      << "</text>\n";
  for (int i = 0; i <= 10; ++i) {  // horizontal grid every 10 points of accuracy
    const double y = y_of(i / 10.0);
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << fixed(y, 1) << "\" x2=\"" << kLeft + pw
        << "\" y2=\"" << fixed(y, 1) << "\" stroke=\"#e0e0e0\"/>\n"
        << "<text x=\"" << kLeft - 6 << "\" y=\"" << fixed(y + 4, 1)
        << "\" text-anchor=\"end\">" << i * 10 << "</text>\n";
  }
  const std::size_t step = std::max<std::size_t>(1, (rounds + 9) / 10);
  for (std::size_t r = 1; r <= rounds; r += step) {
    svg << "<text x=\"" << fixed(x_of(r), 1) << "\" y=\"" << kTop + ph + 16
        << "\" text-anchor=\"middle\">" << r << "</text>\n";
  }
  svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << pw << "\" height=\"" << ph
      << "\" fill=\"none\" stroke=\"#333\"/>\n"
      << "<text x=\"" << kLeft + pw / 2 << "\" y=\"" << kH - 10
      << "\" text-anchor=\"middle\">round</text>\n"
      << "<text transform=\"translate(16," << kTop + ph / 2
      << ") rotate(-90)\" text-anchor=\"middle\">test accuracy (%)</text>\n";
  bool any_refused = false;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* color = kColors[i % std::size(kColors)];
    const auto& s = series[i];
    svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"";
    for (std::size_t r = 0; r < s.values.size(); ++r) {
      const double v = std::isfinite(s.values[r]) ? s.values[r] : 0.0;
      svg << (r ? " " : "") << fixed(x_of(r + 1), 1) << ',' << fixed(y_of(v), 1);
    }
    svg << "\"/>\n";
    for (std::size_t r = 0; r < s.refused.size() && r < s.values.size(); ++r) {
      if (!s.refused[r]) continue;  // a hollow marker: the rule refused, the model stayed
      const double v = std::isfinite(s.values[r]) ? s.values[r] : 0.0;
      svg << "<circle class=\"refused\" cx=\"" << fixed(x_of(r + 1), 1) << "\" cy=\""
          << fixed(y_of(v), 1) << "\" r=\"4\" fill=\"white\" stroke=\"" << color
          << "\" stroke-width=\"2\"><title>round " << r + 1 << ": rule refused</title></circle>\n";
      any_refused = true;
    }
    const double ly = kTop + 8 + 18 * static_cast<double>(i);
    svg << "<line x1=\"" << kLeft + pw + 14 << "\" y1=\"" << ly << "\" x2=\"" << kLeft + pw + 36
        << "\" y2=\"" << ly << "\" stroke=\"" << color << "\" stroke-width=\"3\"/>\n"
        << "<text x=\"" << kLeft + pw + 42 << "\" y=\"" << ly + 4 << "\">" << xml(s.label)
        << "</text>\n";
  }
  if (any_refused) {
    const double ly = kTop + 8 + 18 * static_cast<double>(series.size());
    svg << "<circle cx=\"" << kLeft + pw + 25 << "\" cy=\"" << ly
        << "\" r=\"4\" fill=\"white\" stroke=\"#333\" stroke-width=\"2\"/>\n"
        << "<text x=\"" << kLeft + pw + 42 << "\" y=\"" << ly + 4
        << "\">rule refused the round</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace fl::coordinator
