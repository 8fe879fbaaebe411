// A bounty end to end: the authority (the coordinator's key, here also the researcher's) issues
// tokens with `fl-ledger issue` before the job's first run, the job escrows its bounty when it
// opens, three fl-worker processes are paid out of the escrow round by round, and the unspent
// rest returns to the researcher when the job ends; `fl-ledger verify` re-derives all of it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "federation_fixture.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

TEST_F(Federation, ABountyPaysTheRoundsOutOfItsEscrowAndTheRestReturnsAtTheEnd) {
  JobSpec spec;
  spec.rounds = 2;
  write_config(spec);
  std::ofstream(dir_ / "job.toml", std::ios::app) << "[ledger]\nreward_per_round = 1000\nbounty = 2500\n";
  std::filesystem::create_directories(run_);
  const auto researcher = common::to_hex(coordinator_key().public_key);
  int code = -1;
  auto issued = ledger_json(dir_, {"issue", "--key", coordinator_key_file().string(), "--to", researcher,
                                   "--amount", "4000"}, &code);
  ASSERT_EQ(code, 0) << issued.dump();

  run_to_end(3);
  if (HasFatalFailure()) return;
  const auto log = test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(log.find("paid out of a bounty of 2500"), std::string::npos) << log;

  const auto report = ledger_json(dir_, {"verify"}, &code);
  EXPECT_EQ(code, 0) << report.dump();
  EXPECT_EQ(report["minted"], 4000);  // the issue only: payouts move escrowed tokens
  EXPECT_EQ(report["total_escrow"], 0);
  std::uint64_t paid = 0, refunded = 0;
  for (const auto& tx : ledger_json(dir_, {"history", researcher})) {
    if (tx["type"] == "refund") refunded = tx["amount"].get<std::uint64_t>();
  }
  for (const auto& round : ledger_json(dir_, {"rounds", "itest"})) paid += round["minted"].get<std::uint64_t>();
  EXPECT_GT(paid, 0u);
  EXPECT_LE(paid, 2000u);  // two rounds of at most 1000 (a round that did not improve pays 100)
  EXPECT_EQ(refunded, 2500u - paid);
  std::uint64_t researcher_balance = 0;
  for (const auto& a : ledger_json(dir_, {"accounts"})) {
    if (a["account"] == researcher) researcher_balance = a["balance"].get<std::uint64_t>();
  }
  EXPECT_EQ(researcher_balance, 4000u - paid);
  EXPECT_NE(log.find("unspent tokens of its bounty returned"), std::string::npos) << log;
}

}  // namespace
}  // namespace fl
