// /metrics text: families, histograms, bounded rejection labels; `promtool check metrics`
// (Debian's prometheus package) accepts it where installed.
#include "fl/coordinator/http/prometheus.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

JobSnapshot two_rounds() {
  JobSnapshot s;
  s.job = {"job \"x\"", "mlp", "krum(f=1)", "cosine", 5, 2, 1000, true};
  s.state = "running";
  for (int r = 1; r <= 2; ++r) {
    RoundMetrics m;
    m.round = static_cast<std::uint64_t>(r);
    m.accepted = 3;
    m.rejected = 1;
    m.test_accuracy = 0.5 + 0.1 * r;
    m.test_loss = 1.0 / r;
    m.round_seconds = 0.7 * r;
    m.collect_seconds = 0.5 * r;
    m.aggregate_seconds = 0.02;
    m.eval_seconds = 0.1;
    m.ledger_seconds = 0.003;
    m.update_bytes = 1000;
    m.minted = 1000;
    s.rounds.push_back(m);
  }
  s.workers = {{common::key_pair_from_label("a").public_key, true, 1},
               {common::key_pair_from_label("b").public_key, false, 1}};
  return s;
}

LedgerFigures ledger_figures() {
  LedgerFigures f;
  f.present = true;
  f.height = 7;
  f.minted = 2000;
  f.rejected_by_reason = {{"norm", 1}, {"signature", 1}};
  return f;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(RejectionCategory, MapsReasonTextToAFixedSet) {
  EXPECT_EQ(rejection_category("update norm 12.5 exceeds limit 10"), "norm");
  EXPECT_EQ(rejection_category("bad signature on update from 3fa1c09e"), "signature");
  EXPECT_EQ(rejection_category("equivocation: a second, different update for round 3"),
            "equivocation");
  EXPECT_EQ(rejection_category("non-finite value at index 4 of 10"), "non_finite");
  EXPECT_EQ(rejection_category("worker 3fa1c09e was not asked for round 2"), "not_sampled");
  EXPECT_EQ(rejection_category("something nobody expected"), "other");
}

TEST(PrometheusText, CountsRoundsUpdatesBytesAndTokens) {
  const auto text = prometheus_text(two_rounds(), ledger_figures());
  EXPECT_TRUE(has_line(text, "fl_rounds_completed_total 2")) << text;
  EXPECT_TRUE(has_line(text, "fl_updates_accepted_total 6"));
  EXPECT_TRUE(has_line(text, "fl_updates_rejected_total{reason=\"norm\"} 1"));
  EXPECT_TRUE(has_line(text, "fl_updates_rejected_total{reason=\"signature\"} 1"));
  EXPECT_TRUE(has_line(text, "fl_update_bytes_received_total 2000"));
  EXPECT_TRUE(has_line(text, "fl_workers_registered 2"));
  EXPECT_TRUE(has_line(text, "fl_workers_connected 1"));
  EXPECT_TRUE(has_line(text, "fl_test_accuracy_ratio 0.7"));
  EXPECT_TRUE(has_line(text, "fl_ledger_height 7"));
  EXPECT_TRUE(has_line(text, "fl_tokens_minted_total 2000"));
}

TEST(PrometheusText, WritesRoundAndPhaseDurationsAsCumulativeHistograms) {
  const auto text = prometheus_text(two_rounds(), ledger_figures());
  EXPECT_TRUE(has_line(text, "# TYPE fl_round_duration_seconds histogram"));
  EXPECT_TRUE(has_line(text, "fl_round_duration_seconds_bucket{le=\"1\"} 1"));
  EXPECT_TRUE(has_line(text, "fl_round_duration_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has_line(text, "fl_round_duration_seconds_count 2"));
  for (const char* phase : {"collect", "aggregate", "evaluate", "ledger"}) {
    EXPECT_TRUE(has_line(
        text, std::string("fl_round_phase_duration_seconds_count{phase=\"") + phase + "\"} 2"))
        << phase;
  }
}

TEST(PrometheusText, CountsLedgerAlarmsAndNamesTheHeightOfTheNewest) {
  auto job = two_rounds();
  EXPECT_TRUE(has_line(prometheus_text(job, ledger_figures()), "fl_ledger_rewrites_detected_total 0"));
  job.ledger_rewrites = 2;
  job.ledger_rewrite_height = 5;
  const auto text = prometheus_text(job, ledger_figures());
  EXPECT_TRUE(has_line(text, "fl_ledger_rewrites_detected_total 2")) << text;
  EXPECT_TRUE(has_line(text, "fl_ledger_rewrite_height 5")) << text;
}

TEST(PrometheusText, EscapesQuotesInLabelValues) {
  const auto text = prometheus_text(two_rounds(), ledger_figures());
  EXPECT_NE(text.find("job=\"job \\\"x\\\"\""), std::string::npos) << text;
}

TEST(PrometheusText, PassesPromtoolCheckMetrics) {
  if (!std::filesystem::exists("/usr/bin/promtool"))
    GTEST_SKIP() << "promtool not installed (apt install prometheus)";
  test::TempDir dir;
  std::ofstream(dir / "metrics.txt") << prometheus_text(two_rounds(), ledger_figures());
  const std::string cmd = "/usr/bin/promtool check metrics < " + (dir / "metrics.txt").string() +
                          " > " + (dir / "promtool.out").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << test::read_file(dir / "promtool.out");
  EXPECT_EQ(test::read_file(dir / "promtool.out"), "");
}

}  // namespace
}  // namespace fl::coordinator
