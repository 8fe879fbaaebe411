#include "fl/coordinator/round_metrics.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fl::coordinator {

namespace {

using F = MetricField::Format;

template <auto Member>
MetricValue field(const RoundMetrics& m) {
  const auto& v = m.*Member;
  using T = std::decay_t<decltype(v)>;
  if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(v);
  } else {
    return static_cast<std::int64_t>(v);
  }
}

// The one list of round metrics; every output below is derived from it, in this order.
const MetricField kFields[] = {
    {"round", F::kInteger, field<&RoundMetrics::round>, "round", 5},
    {"sampled", F::kInteger, field<&RoundMetrics::sampled>, "sampled", 7},
    {"answered", F::kInteger, field<&RoundMetrics::answered>, "answered", 8},
    {"accepted", F::kInteger, field<&RoundMetrics::accepted>, "accepted", 8},
    {"rejected", F::kInteger, field<&RoundMetrics::rejected>, "rejected", 8},
    {"task_errors", F::kInteger, field<&RoundMetrics::task_errors>, "errors", 6},
    {"clipped", F::kInteger, field<&RoundMetrics::clipped>},
    {"free_riders", F::kInteger, field<&RoundMetrics::free_riders>},
    {"copies", F::kInteger, field<&RoundMetrics::copies>},
    {"undecodable", F::kInteger, field<&RoundMetrics::undecodable>},
    {"unregistered", F::kInteger, field<&RoundMetrics::unregistered>},
    {"bad_signature", F::kInteger, field<&RoundMetrics::bad_signature>},
    {"unsampled", F::kInteger, field<&RoundMetrics::unsampled>},
    {"over_rejection_cap", F::kInteger, field<&RoundMetrics::over_rejection_cap>},
    {"rate_limited", F::kInteger, field<&RoundMetrics::rate_limited>},
    {"registrations_refused", F::kInteger, field<&RoundMetrics::registrations_refused>},
    {"train_loss", F::kReal, field<&RoundMetrics::train_loss>, "train_loss", 10},
    {"test_loss", F::kReal, field<&RoundMetrics::test_loss>},
    {"test_accuracy", F::kPercent, field<&RoundMetrics::test_accuracy>, "test_acc", 9},
    {"round_seconds", F::kReal, field<&RoundMetrics::round_seconds>, "round_s", 8},
    {"slowest_train_seconds", F::kReal, field<&RoundMetrics::slowest_train_seconds>},
    {"aggregate_seconds", F::kReal, field<&RoundMetrics::aggregate_seconds>},
    {"scoring_seconds", F::kReal, field<&RoundMetrics::scoring_seconds>},
    {"eval_seconds", F::kReal, field<&RoundMetrics::eval_seconds>},
    {"collect_seconds", F::kReal, field<&RoundMetrics::collect_seconds>},
    {"ledger_seconds", F::kReal, field<&RoundMetrics::ledger_seconds>},
    {"update_bytes", F::kInteger, field<&RoundMetrics::update_bytes>},
    {"minted", F::kInteger, field<&RoundMetrics::minted>},
    {"ledger_height", F::kInteger, field<&RoundMetrics::ledger_height>, "block", 8},
    {"rule", F::kText, field<&RoundMetrics::rule>},
    {"scorer", F::kText, field<&RoundMetrics::scorer>},
    {"close_reason", F::kText, field<&RoundMetrics::close_reason>, "closed", -1},  // last: unpadded
    {"never_answered", F::kText, field<&RoundMetrics::never_answered>},
};

std::string live_cell(const MetricField& f, const MetricValue& v) {
  char buf[64];
  const int w = f.live_width;
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    std::snprintf(buf, sizeof buf, "%*lld", w, static_cast<long long>(*i));
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (f.format == F::kPercent) {
      std::snprintf(buf, sizeof buf, "%*.2f%%", w - 1, 100.0 * *d);
    } else {
      std::snprintf(buf, sizeof buf, "%*.4f", w, *d);
    }
  } else {
    return std::get<std::string>(v);
  }
  return buf;
}

}  // namespace

std::span<const MetricField> round_metric_fields() { return kFields; }

std::string csv_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_header() {
  std::string out;
  for (const auto& f : kFields) out += (out.empty() ? "" : ",") + std::string(f.name);
  return out;
}

std::string csv_row(const RoundMetrics& m) {
  std::ostringstream out;
  bool first = true;
  for (const auto& f : kFields) {
    if (!first) out << ',';
    first = false;
    std::visit(
        [&](const auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) {
            out << csv_quote(v);
          } else {
            out << v;
          }
        },
        f.get(m));
  }
  return out.str();
}

std::string json_line(const RoundMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : kFields) {
    std::visit([&](const auto& v) { j[std::string(f.name)] = v; }, f.get(m));
  }
  return j.dump();
}

std::string live_header() {
  std::string out;
  for (const auto& f : kFields) {
    if (f.live_width == 0) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%*s", f.live_width < 0 ? 0 : f.live_width,
                  std::string(f.live_label).c_str());
    out += (out.empty() ? "" : " ") + std::string(buf);
  }
  return out;
}

std::string live_row(const RoundMetrics& m) {
  std::string out;
  for (const auto& f : kFields) {
    if (f.live_width == 0) continue;
    out += (out.empty() ? "" : " ") + live_cell(f, f.get(m));
  }
  return out;
}

std::string short_id_list(std::span<const common::PublicKey> keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : " ") + common::short_id(k);
  return out;
}

Result<MetricsWriter> MetricsWriter::open(const std::filesystem::path& dir, bool live_table) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto csv_path = dir / "metrics.csv";
  const std::string header = csv_header();
  if (std::filesystem::exists(csv_path)) {
    std::ifstream old(csv_path);
    std::string first;
    std::getline(old, first);
    if (first != header) {  // another layout: keep it beside, start a new file
      int n = 1;
      while (std::filesystem::exists(dir / ("metrics." + std::to_string(n) + ".csv"))) ++n;
      std::filesystem::rename(csv_path, dir / ("metrics." + std::to_string(n) + ".csv"), ec);
      if (ec) return make_error(ErrorCode::kIo, "cannot move aside " + csv_path.string());
    }
  }
  const bool new_csv = !std::filesystem::exists(csv_path);
  MetricsWriter w;
  w.live_ = live_table;
  w.jsonl_.open(dir / "metrics.jsonl", std::ios::app);
  w.csv_.open(csv_path, std::ios::app);
  if (!w.jsonl_ || !w.csv_)
    return make_error(ErrorCode::kIo, "cannot write metrics in " + dir.string());
  if (new_csv) w.csv_ << header << '\n';
  return w;
}

void MetricsWriter::on_job_start() {
  if (!live_) return;
  std::printf("%s\n", live_header().c_str());
  std::fflush(stdout);
}

void MetricsWriter::on_round(const RoundMetrics& m) {
  jsonl_ << json_line(m) << '\n';
  jsonl_.flush();
  csv_ << csv_row(m) << '\n';
  csv_.flush();
  if (live_) {
    std::printf("%s\n", live_row(m).c_str());
    std::fflush(stdout);
  }
}

}  // namespace fl::coordinator
