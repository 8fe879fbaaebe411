// Canonical transaction encoding and the reward split.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <random>

#include "fl/ledger/rewards.hpp"
#include "fl/ledger/transaction.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

using test::worker_key;

std::vector<TxBody> one_of_each_type() {
  const auto w0 = worker_key(0).public_key;
  const auto w1 = worker_key(1).public_key;
  RoundResultBody round{"job-1", 7, test::digest_of_text("model"), "trimmed_mean(beta=0.1)", "cosine", {}, {}};
  round.accepted.push_back({w0, test::digest_of_text("u0"), 0.75, 600});
  round.accepted.push_back({w1, test::digest_of_text("u1"), -0.0, 0});
  round.rejected.push_back({worker_key(2).public_key, test::digest_of_text("u2"), "norm 1e9 above bound"});
  return {RegisterBody{"fp-123"},
          OpenJobBody{"job-1", "mlp", "krum(f=1)", 1000},
          round,
          RewardMintBody{"job-1", 7, w0, 999},
          TransferBody{w1, 12},
          StakeBody{40},
          UnstakeBody{3},
          SlashBody{w1, "equivocation in round 7", 5}};
}

TEST(TransactionEncoding, EveryTypeRoundTripsByteForByte) {
  const auto key = worker_key(0);
  for (auto& body : one_of_each_type()) {
    const Transaction tx = make_signed(key, 3, 1700000000123, body);
    const auto bytes = encode(tx);
    auto back = decode(bytes, tx.signature);
    ASSERT_TRUE(back.ok()) << to_string(tx.type()) << ": " << back.error().to_string();
    EXPECT_EQ(back->type(), tx.type());
    EXPECT_EQ(back->issuer, tx.issuer);
    EXPECT_EQ(back->nonce, 3u);
    EXPECT_EQ(back->timestamp_ms, 1700000000123u);
    EXPECT_EQ(back->amount(), tx.amount());
    EXPECT_EQ(encode(*back), bytes) << to_string(tx.type());
    EXPECT_EQ(tx_hash(*back), tx_hash(tx));
    EXPECT_TRUE(signature_valid(*back)) << to_string(tx.type());
  }
}

TEST(TransactionEncoding, RoundResultKeepsEveryUpdateAndReason) {
  const Transaction tx = make_signed(worker_key(0), 1, 5, one_of_each_type()[2]);
  auto back = decode(encode(tx), tx.signature);
  ASSERT_TRUE(back.ok());
  const auto& r = std::get<RoundResultBody>(back->body);
  ASSERT_EQ(r.accepted.size(), 2u);
  EXPECT_EQ(r.accepted[0].score, 0.75);
  EXPECT_EQ(r.accepted[0].num_samples, 600u);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "norm 1e9 above bound");
  EXPECT_EQ(r.rule, "trimmed_mean(beta=0.1)");
  EXPECT_EQ(r.scorer, "cosine");
}

TEST(TransactionEncoding, RoundResultWithoutScorerKeepsTheVersionOneBytes) {
  RoundResultBody body = std::get<RoundResultBody>(one_of_each_type()[2]);
  body.scorer.clear();
  const Transaction tx = make_signed(worker_key(0), 1, 5, body);
  const auto bytes = encode(tx);
  EXPECT_EQ(bytes[4], 1);  // "FLTX" then the version
  auto back = decode(bytes, tx.signature);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(std::get<RoundResultBody>(back->body).scorer, "");
  EXPECT_TRUE(signature_valid(*back));
}

TEST(TransactionEncoding, RoundResultWithScorerIsVersionTwoAndOtherTypesCannotBe) {
  const Transaction round = make_signed(worker_key(0), 1, 5, one_of_each_type()[2]);
  EXPECT_EQ(encode(round)[4], 2);
  auto stake = encode(make_signed(worker_key(0), 1, 5, StakeBody{4}));
  stake[4] = 2;
  EXPECT_FALSE(decode(stake, {}).ok());
}

TEST(TransactionEncoding, AmountIsTheLastEightBytes) {
  const Transaction tx = make_signed(worker_key(0), 1, 5, TransferBody{worker_key(1).public_key, 0x0102030405060708});
  const auto bytes = encode(tx);
  std::uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + bytes.size() - 8, 8);
  EXPECT_EQ(tail, 0x0102030405060708u);
}

TEST(TransactionEncoding, DecodeRejectsTruncationTrailingBytesAndUnknownTypes) {
  const Transaction tx = make_signed(worker_key(0), 1, 5, one_of_each_type()[2]);
  auto bytes = encode(tx);
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{20}, bytes.size() - 1}) {
    EXPECT_FALSE(decode(std::span(bytes).first(cut), tx.signature).ok()) << "cut at " << cut;
  }
  auto longer = bytes;
  longer.push_back(0);
  auto trailing = decode(longer, tx.signature);
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().message.find("trailing"), std::string::npos);
  auto unknown = bytes;
  unknown[5] = 42;
  EXPECT_FALSE(decode(unknown, tx.signature).ok());
}

TEST(TransactionEncoding, HugeListCountIsRejectedBeforeAllocating) {
  const Transaction tx = make_signed(worker_key(0), 1, 5, RoundResultBody{"j", 1, {}, "mean", "", {}, {}});
  auto bytes = encode(tx);
  // The accepted count sits 16 bytes before the end (count, then the empty rejected count).
  const std::uint64_t huge = 1ull << 60;
  std::memcpy(bytes.data() + bytes.size() - 16, &huge, 8);
  EXPECT_FALSE(decode(bytes, tx.signature).ok());
}

TEST(TransactionHash, CoversTheSignature) {
  Transaction tx = make_signed(worker_key(0), 1, 5, StakeBody{4});
  const auto before = tx_hash(tx);
  tx.signature[0] ^= 1;
  EXPECT_NE(tx_hash(tx), before);
  EXPECT_FALSE(signature_valid(tx));
}

TEST(TransactionSigning, RegistrationIsSignedOverTheRegistrationDigest) {
  const auto reg = test::registration(worker_key(4), 77);
  Transaction tx{reg.worker, 0, reg.timestamp_ms, RegisterBody{reg.dataset_fingerprint}, reg.worker_signature};
  EXPECT_TRUE(signature_valid(tx));
  tx.timestamp_ms = 78;
  EXPECT_FALSE(signature_valid(tx));
}

std::vector<AcceptedEntry> scored(const std::vector<double>& scores) {
  std::vector<AcceptedEntry> out;
  for (std::size_t i = 0; i < scores.size(); ++i) out.push_back({worker_key(static_cast<int>(i)).public_key, {}, scores[i], 1});
  return out;
}

TEST(RewardSplit, IsProportionalToScores) {
  EXPECT_EQ(split_reward(1000, scored({1.0, 1.0, 2.0})), (std::vector<std::uint64_t>{250, 250, 500}));
  EXPECT_EQ(split_reward(900, scored({0.5, 0.25, 0.25, 0.0})), (std::vector<std::uint64_t>{450, 225, 225, 0}));
}

TEST(RewardSplit, LeftoverUnitsGoToLargestRemaindersTiesToSmallerKey) {
  const auto entries = scored({1.0, 1.0, 1.0});
  const auto amounts = split_reward(10, entries);
  EXPECT_EQ(std::accumulate(amounts.begin(), amounts.end(), std::uint64_t{0}), 10u);
  std::size_t smallest = 0;
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].worker < entries[smallest].worker) smallest = i;
  }
  for (std::size_t i = 0; i < entries.size(); ++i) EXPECT_EQ(amounts[i], i == smallest ? 4u : 3u);
}

TEST(RewardSplit, NonPositiveAndNonFiniteScoresEarnNothing) {
  EXPECT_EQ(split_reward(100, scored({-1.0, 0.0, 0.5, std::nan("")})), (std::vector<std::uint64_t>{0, 0, 100, 0}));
  EXPECT_EQ(split_reward(100, scored({0.0, 0.0})), (std::vector<std::uint64_t>{0, 0}));
  EXPECT_EQ(split_reward(100, scored({})), (std::vector<std::uint64_t>{}));
}

TEST(RewardSplit, AlwaysPaysExactlyTheBudgetWhenAnyScoreIsPositive) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> score(-0.5, 1.0);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> s(1 + rng() % 12);
    for (auto& v : s) v = score(rng);
    s[rng() % s.size()] = 0.01;  // at least one positive
    const std::uint64_t budget = rng() % 100000;
    const auto amounts = split_reward(budget, scored(s));
    EXPECT_EQ(std::accumulate(amounts.begin(), amounts.end(), std::uint64_t{0}), budget) << "trial " << trial;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] <= 0) {
        EXPECT_EQ(amounts[i], 0u);
      }
    }
  }
}

}  // namespace
}  // namespace fl::ledger
