#include "fl/coordinator/http/prometheus.hpp"

#include <array>
#include <charconv>

namespace fl::coordinator {

namespace {

constexpr std::array<double, 13> kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                             5,    10,   30,  60,   120, 300};

// The shortest text that reads back as the same double ("0.83", not "0.82999999999999996").
std::string number(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

// Label values are job ids and rule names: escape \, " and newlines as the format requires.
std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
    out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
  }
  void sample(std::string_view name, double value, std::string_view labels = {}) {
    out_ += std::string(name);
    if (!labels.empty()) out_ += "{" + std::string(labels) + "}";
    out_ += " " + number(value) + "\n";
  }
  void histogram(std::string_view name, std::string_view label, const std::vector<double>& values) {
    const std::string prefix = label.empty() ? "" : std::string(label) + ",";
    for (double le : kBuckets) {
      std::size_t n = 0;
      for (double v : values) n += v <= le ? 1 : 0;
      sample(std::string(name) + "_bucket", static_cast<double>(n),
             prefix + "le=\"" + number(le) + "\"");
    }
    sample(std::string(name) + "_bucket", static_cast<double>(values.size()),
           prefix + "le=\"+Inf\"");
    double sum = 0;
    for (double v : values) sum += v;
    sample(std::string(name) + "_sum", sum, label);
    sample(std::string(name) + "_count", static_cast<double>(values.size()), label);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string_view rejection_category(std::string_view reason) {
  struct Rule {
    std::string_view contains, category;
  };
  static constexpr Rule kRules[] = {
      {"equivocation", "equivocation"},
      {"signature", "signature"},
      {"was not asked", "not_sampled"},
      {"protocol version", "protocol"},
      {"update is for job", "wrong_round"},
      {"another global model", "stale_model"},
      {"wrong shape", "shape"},
      {"payload", "shape"},
      {"non-finite", "non_finite"},
      {"sample count", "samples"},
      {"norm", "norm"},
  };
  for (const auto& r : kRules) {
    if (reason.find(r.contains) != std::string_view::npos) return r.category;
  }
  return "other";
}

std::string prometheus_text(const JobSnapshot& job, const LedgerFigures& ledger) {
  Exposition e;
  std::uint64_t accepted = 0, rejected = 0, bytes = 0, minted = 0;
  std::vector<double> round_s, collect_s, aggregate_s, eval_s, ledger_s;
  for (const auto& m : job.rounds) {
    accepted += static_cast<std::uint64_t>(m.accepted);
    rejected += static_cast<std::uint64_t>(m.rejected);
    bytes += m.update_bytes;
    minted += m.minted;
    round_s.push_back(m.round_seconds);
    collect_s.push_back(m.collect_seconds);
    aggregate_s.push_back(m.aggregate_seconds);
    eval_s.push_back(m.eval_seconds);
    ledger_s.push_back(m.ledger_seconds);
  }
  e.family("fl_job_info", "gauge", "The job this coordinator runs (value 1).");
  e.sample("fl_job_info", 1,
           "job=\"" + label_value(job.job.job_id) + "\",model=\"" + label_value(job.job.model) +
               "\",rule=\"" + label_value(job.job.rule) + "\",state=\"" + label_value(job.state) +
               "\"");
  e.family("fl_rounds_planned", "gauge", "Rounds the job is configured to run.");
  e.sample("fl_rounds_planned", job.job.rounds);
  e.family("fl_rounds_completed_total", "counter",
           "Rounds closed and recorded by this coordinator process (a resumed job starts again "
           "from 0).");
  e.sample("fl_rounds_completed_total", static_cast<double>(job.rounds.size()));
  e.family("fl_updates_accepted_total", "counter", "Updates accepted into a round.");
  e.sample("fl_updates_accepted_total", static_cast<double>(accepted));
  e.family("fl_updates_rejected_total", "counter",
           "Updates rejected, by reason category (from the ledger).");
  if (ledger.present) {
    for (const auto& [reason, n] : ledger.rejected_by_reason) {
      e.sample("fl_updates_rejected_total", static_cast<double>(n), "reason=\"" + reason + "\"");
    }
  } else {
    e.sample("fl_updates_rejected_total", static_cast<double>(rejected), "reason=\"other\"");
  }
  e.family("fl_update_bytes_received_total", "counter", "Payload bytes of the accepted updates.");
  e.sample("fl_update_bytes_received_total", static_cast<double>(bytes));
  e.family("fl_round_duration_seconds", "histogram", "Wall time of a whole round.");
  e.histogram("fl_round_duration_seconds", "", round_s);
  e.family("fl_round_phase_duration_seconds", "histogram",
           "Wall time of each phase of a round: collect, aggregate, evaluate, ledger.");
  e.histogram("fl_round_phase_duration_seconds", "phase=\"collect\"", collect_s);
  e.histogram("fl_round_phase_duration_seconds", "phase=\"aggregate\"", aggregate_s);
  e.histogram("fl_round_phase_duration_seconds", "phase=\"evaluate\"", eval_s);
  e.histogram("fl_round_phase_duration_seconds", "phase=\"ledger\"", ledger_s);
  std::size_t connected = 0;
  for (const auto& w : job.workers) connected += w.connected ? 1 : 0;
  e.family("fl_workers_registered", "gauge", "Workers registered with the coordinator.");
  e.sample("fl_workers_registered", static_cast<double>(job.workers.size()));
  e.family("fl_workers_connected", "gauge",
           "Registered workers heard from within the heartbeat timeout.");
  e.sample("fl_workers_connected", static_cast<double>(connected));
  if (!job.rounds.empty()) {
    e.family("fl_test_accuracy_ratio", "gauge",
             "Test accuracy of the global model after the last round (0 to 1).");
    e.sample("fl_test_accuracy_ratio", job.rounds.back().test_accuracy);
    e.family("fl_test_loss", "gauge", "Test loss of the global model after the last round.");
    e.sample("fl_test_loss", job.rounds.back().test_loss);
  }
  e.family("fl_ledger_height", "gauge", "Height of the ledger's last block.");
  e.sample("fl_ledger_height", static_cast<double>(ledger.present ? ledger.height : 0));
  e.family("fl_ledger_rewrites_detected_total", "counter",
           "Blocks seen rewritten or deleted in etcd after they were written ([ledger] etcd).");
  e.sample("fl_ledger_rewrites_detected_total", static_cast<double>(job.ledger_rewrites));
  e.family("fl_ledger_rewrite_height", "gauge",
           "Height of the block the newest ledger alarm named (0: none).");
  e.sample("fl_ledger_rewrite_height", static_cast<double>(job.ledger_rewrite_height));
  e.family("fl_tokens_minted_total", "counter", "Reward tokens minted for this job.");
  e.sample("fl_tokens_minted_total", static_cast<double>(ledger.present ? ledger.minted : minted));
  return e.take();
}

}  // namespace fl::coordinator
