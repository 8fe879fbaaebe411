#include "fl/coordinator/round_metrics.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace fl::coordinator {

Result<MetricsWriter> MetricsWriter::open(const std::filesystem::path& dir, bool live_table) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto csv_path = dir / "metrics.csv";
  const bool new_csv = !std::filesystem::exists(csv_path);
  MetricsWriter w;
  w.live_ = live_table;
  w.jsonl_.open(dir / "metrics.jsonl", std::ios::app);
  w.csv_.open(csv_path, std::ios::app);
  if (!w.jsonl_ || !w.csv_) return make_error(ErrorCode::kIo, "cannot write metrics in " + dir.string());
  if (new_csv) {
    w.csv_ << "round,sampled,answered,accepted,rejected,train_loss,test_loss,test_accuracy,round_seconds,"
              "slowest_train_seconds,aggregate_seconds,eval_seconds,ledger_height,rule,close_reason\n";
  }
  return w;
}

void MetricsWriter::print_header() {
  if (!live_) return;
  std::printf("%5s %8s %8s %8s %10s %9s %8s %8s  %s\n", "round", "workers", "accepted", "rejected",
              "train_loss", "test_acc", "round_s", "block", "closed");
  std::fflush(stdout);
}

void MetricsWriter::write(const RoundMetrics& m) {
  nlohmann::json j = {{"round", m.round},
                      {"sampled", m.sampled},
                      {"answered", m.answered},
                      {"accepted", m.accepted},
                      {"rejected", m.rejected},
                      {"train_loss", m.train_loss},
                      {"test_loss", m.test_loss},
                      {"test_accuracy", m.test_accuracy},
                      {"round_seconds", m.round_seconds},
                      {"slowest_train_seconds", m.slowest_train_seconds},
                      {"aggregate_seconds", m.aggregate_seconds},
                      {"eval_seconds", m.eval_seconds},
                      {"ledger_height", m.ledger_height},
                      {"rule", m.rule},
                      {"close_reason", m.close_reason}};
  jsonl_ << j.dump() << '\n';
  jsonl_.flush();
  csv_ << m.round << ',' << m.sampled << ',' << m.answered << ',' << m.accepted << ',' << m.rejected << ','
       << m.train_loss << ',' << m.test_loss << ',' << m.test_accuracy << ',' << m.round_seconds << ','
       << m.slowest_train_seconds << ',' << m.aggregate_seconds << ',' << m.eval_seconds << ','
       << m.ledger_height << ",\"" << m.rule << "\"," << m.close_reason << '\n';
  csv_.flush();
  if (live_) {
    std::printf("%5llu %4d/%-3d %8d %8d %10.4f %8.2f%% %8.2f %8llu  %s\n",
                static_cast<unsigned long long>(m.round), m.answered, m.sampled, m.accepted, m.rejected,
                m.train_loss, 100.0 * m.test_accuracy, m.round_seconds,
                static_cast<unsigned long long>(m.ledger_height), m.close_reason.c_str());
    std::fflush(stdout);
  }
}

}  // namespace fl::coordinator
