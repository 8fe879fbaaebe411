// The ledger on a real SQLite file: genesis, record_round, receipts, every transaction type's
// rules, and the supply invariant under random sequences of transactions.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <algorithm>
#include <random>

#include "fl/common/merkle.hpp"
#include "fl/ledger/consortium.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

using test::authority_key;
using test::researcher_key;
using test::worker_key;

class LedgerTest : public ::testing::Test {
 protected:
  test::TempDir dir_{"fl-ledger"};
  std::filesystem::path db_ = dir_ / "ledger.db";
};

TEST_F(LedgerTest, InitializeWritesGenesisOnceAndRefusesAnotherAuthority) {
  auto led = Ledger::open(db_).value();
  EXPECT_FALSE(led->initialized());
  ASSERT_TRUE(led->initialize(authority_key()).ok());
  ASSERT_TRUE(led->initialize(authority_key()).ok());
  EXPECT_EQ(led->block_count(), 1u);
  EXPECT_EQ(led->authority(), authority_key().public_key);
  auto other = led->initialize(worker_key(0));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("not a member of the ledger's consortium"), std::string::npos);
}

TEST_F(LedgerTest, RecordRoundWritesOneBlockWithRegistrationsJobRoundAndMints) {
  auto led = test::make_ledger(db_, 0);
  auto receipts = led->record_round(authority_key(), researcher_key(), test::job_record(), test::registrations(4),
                                    test::round_record(1, {0, 1, 2}, {0.5, 0.25, 0.0}, {3}));
  ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  EXPECT_EQ(led->height(), 1u);
  // 4 registrations, open-job, round result, 2 mints (worker 2 scored 0).
  const auto& s = led->state();
  EXPECT_EQ(s.find(worker_key(0).public_key)->balance, 667u);
  EXPECT_EQ(s.find(worker_key(1).public_key)->balance, 333u);
  EXPECT_EQ(s.find(worker_key(2).public_key)->balance, 0u);
  EXPECT_EQ(s.find(worker_key(2).public_key)->rounds_contributed, 1u);
  EXPECT_EQ(s.find(worker_key(3).public_key)->rejections, 1u);
  EXPECT_EQ(s.minted(), 1000u);
  ASSERT_EQ(receipts->size(), 3u);
  EXPECT_EQ((*receipts)[2].reward, 0u);
}

TEST_F(LedgerTest, ReceiptsProveInclusionOfTheRoundResult) {
  auto led = test::make_ledger(db_, 1);
  auto receipts = led->record_round(authority_key(), researcher_key(), test::job_record(), test::registrations(4),
                                    test::round_record(2, {0, 1}, {0.8, 0.2}));
  ASSERT_TRUE(receipts.ok());
  for (const auto& r : *receipts) {
    EXPECT_EQ(r.block_height, 2u);
    EXPECT_TRUE(common::verify_inclusion(r.tx_hash, r.leaf_index, r.tree_size, r.proof, r.merkle_root));
    EXPECT_EQ(r.block_hash, led->head_hash());
  }
  EXPECT_EQ((*receipts)[0].reward + (*receipts)[1].reward, 1000u);
}

TEST_F(LedgerTest, RegisteringAKeyTwiceIsSkipped) {
  auto led = test::make_ledger(db_, 1);
  auto regs = test::registrations(4);
  regs.push_back(test::registration(worker_key(0), 5555));  // a fresh signature for a known key
  ASSERT_TRUE(led->record_round(authority_key(), researcher_key(), test::job_record(), regs,
                                test::round_record(2, {0}, {1.0}))
                  .ok());
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->transactions, 4u + 1 + 1 + 3 + 1 + 1);
}

TEST_F(LedgerTest, RecordingTheSameRoundTwiceIsRefusedAndWritesNothing) {
  auto led = test::make_ledger(db_, 1);
  auto again = led->record_round(authority_key(), researcher_key(), test::job_record(), {},
                                 test::round_record(1, {0}, {1.0}));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already recorded"), std::string::npos);
  EXPECT_EQ(led->block_count(), 2u);
}

TEST_F(LedgerTest, RoundWithUnregisteredWorkerIsRefused) {
  auto led = test::make_ledger(db_, 0);
  auto r = led->record_round(authority_key(), researcher_key(), test::job_record(), test::registrations(2),
                             test::round_record(1, {0, 5}, {1.0, 1.0}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not registered"), std::string::npos);
}

TEST_F(LedgerTest, ForgedRegistrationIsRefused) {
  auto led = test::make_ledger(db_, 0);
  auto regs = test::registrations(2);
  regs[1].dataset_fingerprint = "something else";
  auto r = led->record_round(authority_key(), researcher_key(), test::job_record(), regs,
                             test::round_record(1, {0}, {1.0}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBadSignature);
}

TEST_F(LedgerTest, AllZeroScoresMintNothing) {
  auto led = test::make_ledger(db_, 0);
  auto r = led->record_round(authority_key(), researcher_key(), test::job_record(), test::registrations(2),
                             test::round_record(1, {0, 1}, {0.0, -0.3}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(led->state().minted(), 0u);
}

TEST_F(LedgerTest, ReopeningReplaysTheSameState) {
  {
    auto led = test::make_ledger(db_, 3);
    ASSERT_TRUE(led->submit(worker_key(0), StakeBody{100}).ok());
  }
  auto led = Ledger::open(db_).value();
  EXPECT_EQ(led->block_count(), 5u);
  EXPECT_EQ(led->state().find(worker_key(0).public_key)->stake, 100u);
  EXPECT_EQ(led->state().minted(), 3000u);
  EXPECT_EQ(led->authority(), authority_key().public_key);
}

TEST_F(LedgerTest, TwoWritersInterleaveWithoutBreakingNonces) {
  auto coordinator = test::make_ledger(db_, 1);
  auto holder = Ledger::open(db_).value();
  ASSERT_TRUE(holder->submit(worker_key(0), TransferBody{worker_key(1).public_key, 10}).ok());
  ASSERT_TRUE(coordinator->record_round(authority_key(), researcher_key(), test::job_record(), {},
                                        test::round_record(2, {0}, {1.0}))
                  .ok());
  ASSERT_TRUE(holder->submit(worker_key(0), StakeBody{5}).ok());
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->blocks, 5u);
}

TEST_F(LedgerTest, CommittedRowsCannotBeUpdatedThroughSql) {
  auto led = test::make_ledger(db_, 1);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "UPDATE txs SET amount = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "DELETE FROM blocks WHERE height = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_TRUE(verify_ledger(db_)->ok);
}

// --- every transaction type: valid, then wrong signature, nonce or balance ---

struct Case {
  TxType type;
  std::vector<Transaction> block;  // the block to append; block[tested] is the one of `type`
  std::size_t tested = 0;
};

class TransactionRules : public LedgerTest, public ::testing::WithParamInterface<TxType> {
 protected:
  void SetUp() override {
    led_ = test::make_ledger(db_, 1);  // worker 0: 500, worker 1: 333, worker 2: 167
    ASSERT_TRUE(led_->submit(worker_key(1), StakeBody{100}).ok());
  }
  std::uint64_t nonce(const common::KeyPair& k) { return led_->next_nonce(k.public_key); }

  Case make(TxType type) {
    const auto a = authority_key();
    const auto w0 = worker_key(0);
    const auto w1 = worker_key(1);
    switch (type) {
      case TxType::kRegister: {
        auto r = test::registration(worker_key(9));
        return {type, {Transaction{r.worker, 0, r.timestamp_ms, RegisterBody{r.dataset_fingerprint}, r.worker_signature}}};
      }
      case TxType::kOpenJob:
        return {type, {make_signed(researcher_key(), nonce(researcher_key()), 1, OpenJobBody{"job-2", "cnn", "mean", 50})}};
      case TxType::kRoundResult: {
        RoundResultBody b{"job-1", 2, test::digest_of_text("m2"), "mean", "cosine", {{w0.public_key, {}, 0.0, 10}}, {}};
        return {type, {make_signed(a, nonce(a), 1, b)}};
      }
      case TxType::kRewardMint: {
        RoundResultBody b{"job-1", 2, test::digest_of_text("m2"), "mean", "cosine", {{w0.public_key, {}, 1.0, 10}}, {}};
        return {type,
                {make_signed(a, nonce(a), 1, b), make_signed(a, nonce(a) + 1, 1, RewardMintBody{"job-1", 2, w0.public_key, 1000})},
                1};
      }
      case TxType::kTransfer:
        return {type, {make_signed(w0, nonce(w0), 1, TransferBody{w1.public_key, 500})}};
      case TxType::kStake:
        return {type, {make_signed(w0, nonce(w0), 1, StakeBody{500})}};
      case TxType::kUnstake:
        return {type, {make_signed(w1, nonce(w1), 1, UnstakeBody{100})}};
      case TxType::kSlash:
        return {type, {make_signed(a, nonce(a), 1, SlashBody{w1.public_key, "equivocation", 100})}};
      case TxType::kEscrow: {
        const auto r = researcher_key();
        return {type,
                {make_signed(a, nonce(a), 1, IssueBody{r.public_key, 500}),
                 make_signed(r, nonce(r), 1, EscrowBody{"job-1", 500})},
                1};
      }
      case TxType::kPayout: {
        const auto r = researcher_key();
        RoundResultBody b{"job-1", 2, test::digest_of_text("m2"), "mean", "cosine", {{w0.public_key, {}, 1.0, 10}}, {}};
        return {type,
                {make_signed(a, nonce(a), 1, IssueBody{r.public_key, 1000}),
                 make_signed(r, nonce(r), 1, EscrowBody{"job-1", 1000}), make_signed(a, nonce(a) + 1, 1, b),
                 make_signed(a, nonce(a) + 2, 1, PayoutBody{"job-1", 2, w0.public_key, 1000})},
                3};
      }
      case TxType::kRefund: {
        const auto r = researcher_key();
        return {type,
                {make_signed(a, nonce(a), 1, IssueBody{r.public_key, 300}),
                 make_signed(r, nonce(r), 1, EscrowBody{"job-1", 300}),
                 make_signed(a, nonce(a) + 1, 1, RefundBody{"job-1", 300})},
                2};
      }
      case TxType::kIssue:
        return {type, {make_signed(a, nonce(a), 1, IssueBody{w0.public_key, 100})}};
      case TxType::kConsent: {
        const auto r = researcher_key();
        auto t = test::job_terms("job-2", r.public_key, a.public_key);
        t.model = "cnn";
        t.reward_per_round = 50;
        Transaction consent{w0.public_key, 0, 7, ConsentBody{"job-2", common::terms_digest(t)}, {}};
        sign_transaction(consent, w0);
        return {type, {make_signed(r, nonce(r), 1, OpenJobBody{"job-2", "cnn", "mean", 50, std::nullopt, t}), consent}, 1};
      }
      case TxType::kConsortium: {
        auto next = led_->state().consortium();
        next.epoch += 1;
        next.witnesses = {a.public_key};
        ConsortiumBody b{next, {approve_consortium_change(led_->state().consortium(), next, a)}};
        return {type, {make_signed(a, nonce(a), 1, b)}};
      }
    }
    return {};
  }
  Status append(const Case& c) {
    auto r = led_->append_block(authority_key(), c.block);
    return r.ok() ? ok_status() : Status(r.error());
  }
  // Re-signs the tested transaction after a change (registration: its worker's key is worker 9).
  void resign(Case& c) {
    auto& tx = c.block[c.tested];
    if (tx.type() == TxType::kRegister) return;  // the worker signs only the registration digest
    const auto key = tx.issuer == authority_key().public_key   ? authority_key()
                     : tx.issuer == researcher_key().public_key ? researcher_key()
                     : tx.issuer == worker_key(0).public_key    ? worker_key(0)
                                                                : worker_key(1);
    sign_transaction(tx, key);
  }

  std::unique_ptr<Ledger> led_;
};

TEST_P(TransactionRules, ValidTransactionIsAppendedAndVerifies) {
  const auto before = led_->block_count();
  auto st = append(make(GetParam()));
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(led_->block_count(), before + 1);
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
}

TEST_P(TransactionRules, WrongSignatureIsRejected) {
  auto c = make(GetParam());
  c.block[c.tested].signature[10] ^= 0x40;
  auto st = append(c);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kBadSignature) << st.error().to_string();
  EXPECT_EQ(led_->block_count(), 3u);
}

TEST_P(TransactionRules, WrongNonceIsRejected) {
  auto c = make(GetParam());
  c.block[c.tested].nonce += 1;
  resign(c);
  auto st = append(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("nonce"), std::string::npos) << st.error().to_string();
}

TEST_P(TransactionRules, ReplayIsRejected) {
  const auto c = make(GetParam());
  ASSERT_TRUE(append(c).ok());
  auto st = append(c);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(led_->block_count(), 4u);
}

TEST_P(TransactionRules, WrongAmountOrBalanceIsRejected) {
  auto c = make(GetParam());
  auto& tx = c.block[c.tested];
  if (!tx.amount()) GTEST_SKIP() << to_string(tx.type()) << " moves no tokens";
  if (tx.type() == TxType::kIssue) GTEST_SKIP() << "the authority may issue any amount";
  std::visit([](auto& b) {
    if constexpr (requires { b.amount; }) b.amount += 1;
  }, tx.body);
  resign(c);
  auto st = append(c);
  ASSERT_FALSE(st.ok());
  const auto& m = st.error().message;
  EXPECT_TRUE(m.find("exceeds") != std::string::npos || m.find("differs from the split") != std::string::npos ||
              m.find("returns all of it") != std::string::npos)
      << m;
}

TEST_P(TransactionRules, AuthorityOnlyTypesAreRejectedFromOthers) {
  auto c = make(GetParam());
  auto& tx = c.block[c.tested];
  const auto t = tx.type();
  if (t != TxType::kRoundResult && t != TxType::kRewardMint && t != TxType::kSlash && t != TxType::kPayout &&
      t != TxType::kRefund && t != TxType::kIssue && t != TxType::kConsortium)
    GTEST_SKIP();
  tx.issuer = worker_key(0).public_key;
  tx.nonce = nonce(worker_key(0));
  sign_transaction(tx, worker_key(0));
  auto st = append(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("of the consortium"), std::string::npos) << st.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(EveryType, TransactionRules,
                         ::testing::Values(TxType::kRegister, TxType::kOpenJob, TxType::kRoundResult,
                                           TxType::kRewardMint, TxType::kTransfer, TxType::kStake, TxType::kUnstake,
                                           TxType::kSlash, TxType::kEscrow, TxType::kPayout, TxType::kRefund,
                                           TxType::kIssue, TxType::kConsent, TxType::kConsortium),
                         [](const auto& info) {
                           std::string n(to_string(info.param));
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

TEST_F(LedgerTest, HolderBlockMayHoldOnlyItsOwnTransfers) {
  auto led = test::make_ledger(db_, 1);
  auto foreign = make_signed(worker_key(1), led->next_nonce(worker_key(1).public_key), 1,
                             TransferBody{worker_key(0).public_key, 1});
  auto r = led->append_block(worker_key(0), {foreign});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a member of the consortium"), std::string::npos);
}

TEST_F(LedgerTest, SupplyInvariantHoldsAfterRandomTransactionSequences) {
  auto led = test::make_ledger(db_, 0);
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> score(-0.2, 1.0);
  const auto regs = test::registrations(6);
  std::uint64_t round = 0;
  int accepted = 0;
  for (int step = 0; step < 120; ++step) {
    const auto w = worker_key(static_cast<int>(rng() % 6));
    const auto* acc = led->state().find(w.public_key);
    const std::uint64_t bal = acc ? acc->balance : 0;
    const std::uint64_t stake = acc ? acc->stake : 0;
    Result<AppendedBlock> r = make_error(ErrorCode::kInternal, "");
    switch (rng() % 5) {
      case 0: {
        std::vector<int> ws = {0, 1, 2, 3, 4, 5};
        std::shuffle(ws.begin(), ws.end(), rng);
        ws.resize(1 + rng() % 6);
        std::vector<double> sc;
        for (std::size_t i = 0; i < ws.size(); ++i) sc.push_back(score(rng));
        auto rr = led->record_round(authority_key(), researcher_key(), test::job_record("job-1", 777), regs,
                                    test::round_record(++round, ws, sc));
        if (rr.ok()) ++accepted;
        continue;
      }
      case 1:
        r = led->submit(w, TransferBody{worker_key(static_cast<int>(rng() % 6)).public_key, rng() % (bal + 5)});
        break;
      case 2:
        r = led->submit(w, StakeBody{rng() % (bal + 5)});
        break;
      case 3:
        r = led->submit(w, UnstakeBody{rng() % (stake + 5)});
        break;
      default:
        r = led->append_block(authority_key(), {make_signed(authority_key(), led->next_nonce(authority_key().public_key),
                                                            1, SlashBody{w.public_key, "test", rng() % (stake + 5)})});
    }
    if (r.ok()) ++accepted;
    const auto& s = led->state();
    ASSERT_EQ(s.total_balances() + s.total_stakes(), s.minted() - s.slashed()) << "step " << step;
  }
  EXPECT_GT(accepted, 40);
  EXPECT_GT(led->state().slashed(), 0u);
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->minted, led->state().minted());
  EXPECT_EQ(report->total_balances + report->total_stakes, report->minted - report->slashed);
}

}  // namespace
}  // namespace fl::ledger
