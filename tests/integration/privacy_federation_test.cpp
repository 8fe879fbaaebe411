// Client-level DP end to end: a coordinator and three fl-worker processes on 127.0.0.1 run a
// distributed-DP job (each worker clips and adds its noise share) whose (epsilon, delta) budget
// covers two rounds (a small clip norm keeps the noised model trainable); the third would exceed
// it, so the job stops there, says why in its log and metrics, and the ledger holds two DP
// rounds that `fl-ledger verify` re-accounts.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "federation_fixture.hpp"
#include "fl/common/rdp_composition.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

constexpr double kSigma = 3.0;
constexpr double kDelta = 1e-5;

TEST_F(Federation, ADistributedDpJobStopsWhenItsBudgetWouldRunOut) {
  common::RdpComposition plan;  // q = 1: all three workers are sampled every round
  ASSERT_TRUE(plan.add_round(1.0, kSigma).ok());
  ASSERT_TRUE(plan.add_round(1.0, kSigma).ok());
  const double budget =
      (plan.epsilon(kDelta).value() + plan.epsilon_after(1.0, kSigma, kDelta).value()) / 2;
  JobSpec spec;
  spec.rounds = 5;
  write_config(spec);
  std::ofstream(dir_ / "job.toml", std::ios::app)
      << "[privacy]\nmode = \"distributed\"\nclip_norm = 0.01\nnoise_multiplier = " << kSigma
      << "\ntarget_epsilon = " << budget << "\ntarget_delta = " << kDelta << "\nmin_workers = 3\n";
  run_to_end(3);
  if (HasFatalFailure()) return;

  const auto log = test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(log.find("privacy budget spent: round 3"), std::string::npos) << log;
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["accepted"], 3);
  EXPECT_EQ(rows[1]["accepted"], 3);
  EXPECT_NE(rows[2]["close_reason"].get<std::string>().find("privacy budget spent"),
            std::string::npos)
      << rows[2].dump();
  EXPECT_NE(test::read_file(dir_ / "worker0.out").find("privacy budget spent"), std::string::npos);

  int code = -1;
  const auto report = ledger_json(dir_, {"verify"}, &code);
  EXPECT_EQ(code, 0) << report.dump();
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["blocks"], 3);  // genesis and the two DP rounds
}

}  // namespace
}  // namespace fl
