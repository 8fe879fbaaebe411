// A run folder's plots: accuracy.svg from metrics.jsonl, rewards.svg from the ledger, and the
// comparison of several runs that `fl-coordinator compare` prints and draws.
#include "fl/coordinator/run_plots.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fl/coordinator/run_comparison.hpp"
#include "ledger/ledger_fixture.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl::coordinator {
namespace {

// A run folder's metrics.jsonl with these accuracies for rounds 1..n, in the layout
// MetricsWriter writes (the fields the plots read, among others).
void write_metrics(const std::filesystem::path& dir, const std::vector<double>& accuracy,
                   const std::string& rule = "fedavg") {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / "metrics.jsonl");
  for (std::size_t i = 0; i < accuracy.size(); ++i) {
    out << nlohmann::json{{"round", i + 1},
                          {"accepted", 3},
                          {"test_loss", 2.0 * (1 - accuracy[i])},
                          {"test_accuracy", accuracy[i]},
                          {"rule", rule}}
               .dump()
        << "\n";
  }
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(RunPlots, ReadsOneEntryPerRoundInRoundOrderKeepingTheLastRowOfARound) {
  test::TempDir dir;
  test::write_file(dir / "metrics.jsonl",
                   "{\"round\":2,\"test_accuracy\":0.5,\"test_loss\":1.0,\"rule\":\"krum\"}\n"
                   "{\"round\":1,\"test_accuracy\":0.3,\"test_loss\":1.5,\"rule\":\"krum\"}\n\n"
                   "{\"round\":2,\"test_accuracy\":0.6,\"test_loss\":0.9,\"rule\":\"krum\"}\n");
  auto rounds = read_round_accuracy(dir.path());
  ASSERT_TRUE(rounds.ok()) << rounds.error().to_string();
  ASSERT_EQ(rounds->size(), 2u);
  EXPECT_EQ((*rounds)[0].round, 1u);
  EXPECT_DOUBLE_EQ((*rounds)[1].test_accuracy, 0.6);
  EXPECT_EQ((*rounds)[1].rule, "krum");
}

TEST(RunPlots, NamesTheFileAndLineOfARowItCannotRead) {
  test::TempDir dir;
  test::write_file(dir / "metrics.jsonl",
                   "{\"round\":1,\"test_accuracy\":0.3}\n{\"round\":\"x\"}\n");
  auto rounds = read_round_accuracy(dir.path());
  ASSERT_FALSE(rounds.ok());
  EXPECT_EQ(rounds.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(rounds.error().message.find("metrics.jsonl line 2"), std::string::npos)
      << rounds.error().message;
}

TEST(RunPlots, ReadsANullAccuracyOrLossAsNotANumberAndAnyOtherTypeAsCorrupt) {
  test::TempDir dir;
  test::write_file(dir / "metrics.jsonl",
                   "{\"round\":1,\"test_accuracy\":null,\"test_loss\":null}\n");
  auto rounds = read_round_accuracy(dir.path());
  ASSERT_TRUE(rounds.ok()) << rounds.error().to_string();
  EXPECT_TRUE(std::isnan((*rounds)[0].test_accuracy));
  test::write_file(dir / "metrics.jsonl",
                   "{\"round\":1,\"test_accuracy\":0.5,\"test_loss\":\"x\"}\n");
  EXPECT_EQ(read_round_accuracy(dir.path()).error().code, ErrorCode::kCorrupt);
}

TEST(RunPlots, SaysWhatAFolderWithoutMetricsLacks) {
  test::TempDir dir;
  auto rounds = read_round_accuracy(dir.path());
  ASSERT_FALSE(rounds.ok());
  EXPECT_EQ(rounds.error().code, ErrorCode::kNotFound);
  EXPECT_NE(rounds.error().message.find("metrics.jsonl"), std::string::npos);
}

TEST(RunPlots, SumsEachWorkersRewardsOverTheRoundsOfTheJob) {
  test::TempDir dir;
  test::make_ledger(dir / "ledger.db", 3);  // 3 rounds of job-1, 1000 tokens each, 3 workers paid
  auto earnings = read_worker_earnings(dir.path(), "job-1");
  ASSERT_TRUE(earnings.ok()) << earnings.error().to_string();
  ASSERT_EQ(earnings->size(), 3u);
  double paid = 0;
  for (const auto& w : *earnings) {
    ASSERT_EQ(w.rounds, (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_DOUBLE_EQ(w.cumulative[2], 3 * w.cumulative[0]);  // the same scores every round
    paid += w.cumulative.back();
  }
  EXPECT_DOUBLE_EQ(paid, 3000);
  EXPECT_GT((*earnings)[0].cumulative.back(), (*earnings)[2].cumulative.back());  // highest first
  EXPECT_EQ((*earnings)[0].worker, common::short_id(test::worker_key(0).public_key));
}

TEST(RunPlots, WritesAccuracyAndRewardChartsIntoTheRunFolder) {
  test::TempDir dir;
  write_metrics(dir.path(), {0.4, 0.6, 0.7});
  test::make_ledger(dir / "ledger.db", 3);
  auto written = write_run_plots(dir.path(), "job-1");
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  EXPECT_EQ(written->size(), 2u);
  const auto accuracy = test::read_file(dir / "accuracy.svg");
  EXPECT_EQ(count(accuracy, "<polyline"), 2u);  // accuracy and loss
  EXPECT_NE(accuracy.find("test loss"), std::string::npos);
  EXPECT_NE(accuracy.find("job 'job-1', fedavg"), std::string::npos);
  const auto rewards = test::read_file(dir / "rewards.svg");
  EXPECT_EQ(count(rewards, "<polyline"), 3u);  // one per paid worker
  EXPECT_NE(rewards.find(common::short_id(test::worker_key(1).public_key)), std::string::npos);
}

TEST(RunPlots, SkipsTheRewardChartWithoutALedger) {
  test::TempDir dir;
  write_metrics(dir.path(), {0.4});
  auto written = write_run_plots(dir.path(), "job-1");
  ASSERT_TRUE(written.ok()) << written.error().to_string();
  EXPECT_EQ(*written, (std::vector<std::filesystem::path>{dir / "accuracy.svg"}));
  EXPECT_FALSE(std::filesystem::exists(dir / "rewards.svg"));
}

TEST(RunPlots, DrawsNineWorkersByNameAndTheRestAsTheirMean) {
  std::vector<WorkerEarnings> workers;
  for (int i = 0; i < 12; ++i)
    workers.push_back({"w" + std::to_string(i), {1, 2}, {12.0 - i, 24.0 - 2 * i}});
  const auto svg = run_rewards_chart_svg("j", workers);
  EXPECT_EQ(count(svg, "<polyline"), 10u);
  EXPECT_NE(svg.find(">w8</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">w9</text>"), std::string::npos);
  EXPECT_NE(svg.find(">3 others (mean)</text>"), std::string::npos);
}

TEST(RunPlotsOnExit, WritesThePlotsWhenItGoesOutOfScope) {
  test::TempDir dir;
  write_metrics(dir.path(), {0.4, 0.5});
  { const RunPlotsOnExit plots(dir.path(), "job-1"); }
  EXPECT_TRUE(std::filesystem::exists(dir / "accuracy.svg"));
}

TEST(CompareRuns, PrintsEachRoundOfEachRunSideBySideWithFinalAndBest) {
  test::TempDir dir;
  write_metrics(dir / "fedavg-run", {0.40, 0.60, 0.55}, "fedavg");
  write_metrics(dir / "krum-run", {0.30, 0.50}, "krum(f=1)");
  const std::vector<std::filesystem::path> dirs = {dir / "fedavg-run", dir / "krum-run/"};
  auto runs = load_compared_runs(dirs);
  ASSERT_TRUE(runs.ok()) << runs.error().to_string();
  const auto table = comparison_table(*runs);
  EXPECT_NE(table.find("fedavg-run: 3 rounds, rule fedavg\n"), std::string::npos) << table;
  EXPECT_NE(table.find("krum-run: 2 rounds, rule krum(f=1)\n"), std::string::npos) << table;
  EXPECT_NE(table.find(" round  fedavg-run  krum-run\n"), std::string::npos) << table;
  EXPECT_NE(table.find("     2       60.00     50.00\n"), std::string::npos) << table;
  EXPECT_NE(table.find("     3       55.00         -\n"), std::string::npos) << table;
  EXPECT_NE(table.find(" final       55.00     50.00\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  best   60.00 (2)  50.00 (2)\n"), std::string::npos) << table;
}

TEST(CompareRuns, LabelsRunsWithTheSameFolderNameByTheirPaths) {
  test::TempDir dir;
  write_metrics(dir / "a" / "run", {0.4});
  write_metrics(dir / "b" / "run", {0.5});
  const std::vector<std::filesystem::path> dirs = {dir / "a" / "run", dir / "b" / "run"};
  auto runs = load_compared_runs(dirs);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[0].label, (dir / "a" / "run").string());
  EXPECT_NE((*runs)[0].label, (*runs)[1].label);
}

TEST(CompareRuns, NamesTheRunFolderWithoutMetrics) {
  test::TempDir dir;
  write_metrics(dir / "good", {0.4});
  std::filesystem::create_directories(dir / "empty");
  const std::vector<std::filesystem::path> dirs = {dir / "good", dir / "empty"};
  std::ostringstream out;
  auto s = compare_runs(dirs, dir / "c.svg", out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find((dir / "empty" / "metrics.jsonl").string()), std::string::npos);
}

TEST(CompareRuns, TheCommandPrintsTheTableAndWritesOneLinePerRun) {
  test::TempDir dir;
  write_metrics(dir / "one", {0.4, 0.5});
  write_metrics(dir / "two", {0.3, 0.6});
  const auto svg = dir / "cmp.svg";
  test::ChildProcess p({test::binary("fl-coordinator"), "compare", (dir / "one").string(),
                        (dir / "two").string(), "--out", svg.string()},
                       dir / "compare.out");
  ASSERT_EQ(p.wait(std::chrono::seconds(30)), 0) << test::read_file(dir / "compare.out");
  const auto printed = test::read_file(dir / "compare.out");
  EXPECT_NE(printed.find("     2    50.00    60.00"), std::string::npos) << printed;
  EXPECT_NE(printed.find("chart: " + svg.string()), std::string::npos) << printed;
  EXPECT_EQ(count(test::read_file(svg), "<polyline"), 2u);
}

}  // namespace
}  // namespace fl::coordinator
