// The etcd-replicated BlockStore against real etcd members on loopback: the Ledger appends and
// replays through it, one writer wins a height, retries are recognised, big blocks are chunked,
// a killed leader loses nothing acknowledged, and a rewritten block is caught.
#include "fl/ledger/etcd_block_store.hpp"

#include <gtest/gtest.h>

#include <latch>
#include <mutex>
#include <thread>

#include "fl/common/merkle.hpp"
#include "ledger_fixture.hpp"
#include "support/etcd_cluster.hpp"

namespace fl::ledger {
namespace {

using test::authority_key;
using test::EtcdCluster;

class EtcdBlockStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { start_cluster(1); }

  void start_cluster(int members) {
    if (!EtcdCluster::binary())
      GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    cluster_.reset();
    auto c = EtcdCluster::start(members);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    cluster_ = std::move(c).value();
  }

  EtcdStoreOptions options() const {
    EtcdStoreOptions o;
    o.etcd = cluster_->options();
    o.chain = "test";
    return o;
  }
  std::unique_ptr<EtcdBlockStore> open_store(EtcdStoreOptions o) {
    auto s = EtcdBlockStore::open(std::move(o));
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<EtcdBlockStore> open_store() { return open_store(options()); }

  // A ledger on the etcd chain with genesis and `rounds` rounds of job-1.
  std::unique_ptr<Ledger> ledger_with_rounds(int rounds) {
    auto opened = Ledger::open(open_store());
    EXPECT_TRUE(opened.ok()) << opened.error().to_string();
    auto led = std::move(opened).value();
    EXPECT_TRUE(led->initialize(authority_key()).ok());
    for (int r = 1; r <= rounds; ++r) record_round(*led, r);
    return led;
  }
  static void record_round(Ledger& led, int round) {
    auto receipts = led.record_round(authority_key(), test::researcher_key(), test::job_record(),
                                     test::registrations(4),
                                     test::round_record(round, {0, 1, 2}, {0.9, 0.6, 0.3}, {3}));
    EXPECT_TRUE(receipts.ok()) << receipts.error().to_string();
  }
  // An empty block at `height` on `parent`, proposed by `label`'s key.
  static Block empty_block(std::uint64_t height, const common::Digest& parent,
                           const std::string& label) {
    BlockHeader h{height,   parent, common::merkle_root({}),
                  now_ms(), 0,      common::key_pair_from_label(label).public_key};
    return seal_block(h, common::key_pair_from_label(label));
  }

  std::unique_ptr<EtcdCluster> cluster_;
};

TEST_F(EtcdBlockStoreTest, RoundsAppendedThroughTheLedgerReplayAndVerifyFromEtcd) {
  auto writer = ledger_with_rounds(3);
  auto reopened = Ledger::open(open_store());  // replays the chain from etcd
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ((*reopened)->block_count(), 4u);
  EXPECT_EQ((*reopened)->head_hash(), writer->head_hash());
  EXPECT_EQ((*reopened)->state().minted(), writer->state().minted());
  auto report = verify_store(*open_store());
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->blocks, 4u);
}

TEST_F(EtcdBlockStoreTest, ExactlyOneOfConcurrentAppendersAtTheSameHeightWins) {
  auto led = ledger_with_rounds(0);
  const common::Digest genesis = led->head_hash();
  constexpr int kWriters = 4;
  std::vector<std::unique_ptr<EtcdBlockStore>> stores;
  for (int i = 0; i < kWriters; ++i) stores.push_back(open_store());
  std::vector<Status> results(kWriters);
  std::latch go(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      const Block b = empty_block(1, genesis, "writer-" + std::to_string(i));
      go.arrive_and_wait();
      results[i] = stores[i]->append(b, {}, {}, {});
    });
  }
  for (auto& t : threads) t.join();
  int won = 0;
  for (const auto& r : results) {
    if (r.ok()) {
      ++won;
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists) << r.error().to_string();
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(open_store()->block_count().value_or(0), 2u);
}

TEST_F(EtcdBlockStoreTest, ARetriedAppendIsRecognisedAsDone) {
  auto led = ledger_with_rounds(0);
  auto store = open_store();
  const Block b = empty_block(1, led->head_hash(), "proposer");
  ASSERT_TRUE(store->append(b, {}, {}, {}).ok());
  const auto again = store->append(b, {}, {}, {});  // as after a reply lost on the way back
  EXPECT_TRUE(again.ok()) << again.error().to_string();
  const auto other = store->append(empty_block(1, led->head_hash(), "other"), {}, {}, {});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store->block_count().value_or(0), 2u);
}

TEST_F(EtcdBlockStoreTest, ABlockOnAnotherParentIsRefusedWithoutARetry) {
  auto led = ledger_with_rounds(0);
  const auto forked = open_store()->append(empty_block(1, common::Digest{}, "fork"), {}, {}, {});
  ASSERT_FALSE(forked.ok());
  EXPECT_EQ(forked.error().code, ErrorCode::kPrecondition) << forked.error().to_string();
}

TEST_F(EtcdBlockStoreTest, ABlockOverOneMebibyteIsChunkedAndReadsBackIdenticalAndVerifies) {
  auto led = ledger_with_rounds(1);
  const auto worker = test::worker_key(7);
  const std::string fingerprint(5 * (1 << 19), 'f');  // 2.5 MiB
  const std::uint64_t ts = 1000;
  const Transaction reg{worker.public_key, 0, ts, RegisterBody{fingerprint},
                        common::sign(worker.secret_key, common::registration_digest(
                                                            worker.public_key, fingerprint, ts))};
  auto appended = led->append_block(authority_key(), {reg});
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();

  auto store = open_store();
  auto raw = store->client().get(block_key(store->prefix(), 2));
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_LT((*raw)->value.size(), 1024u);  // a manifest, not the record
  auto chunks = store->client().range(
      RangeRequest{store->prefix() + "chunk/", prefix_end(store->prefix() + "chunk/"), 0, 0, true});
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(chunks->kvs.size(), 3u);

  auto records = store->read_from(2);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ(records->txs.size(), 1u);
  EXPECT_EQ(records->txs[0].body, encode(appended->txs[0]));
  auto report = verify_store(*store);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->blocks, 3u);
}

TEST_F(EtcdBlockStoreTest, AnAppendNeedsTheOwnersLeaseWhenOneIsConfigured) {
  auto led = ledger_with_rounds(0);
  auto admin = open_store();
  auto lease = admin->client().grant_lease(30);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  const std::string owner_key = "/fedledger/test/jobs/job-1/owner";
  ASSERT_TRUE(admin->client().put(owner_key, "coordinator-a", lease->id).ok());
  EXPECT_GT(admin->client().keep_alive(lease->id).value_or(0), 0);
  auto o = options();
  o.owner_lease_key = owner_key;
  o.owner_lease_id = lease->id;
  auto owned = open_store(o);
  const Block first = empty_block(1, led->head_hash(), "a");
  ASSERT_TRUE(owned->append(first, {}, {}, {}).ok());

  ASSERT_TRUE(admin->client().revoke_lease(lease->id).ok());  // the owner key goes with it
  const Block next = empty_block(2, first.hash, "a");
  auto refused = owned->append(next, {}, {}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kPrecondition) << refused.error().to_string();
  EXPECT_EQ(admin->client().keep_alive(lease->id).error().code, ErrorCode::kNotFound);
}

TEST_F(EtcdBlockStoreTest, AThreeMemberClusterKeepsAppendingAfterItsLeaderIsKilled) {
  start_cluster(3);
  if (HasFatalFailure() || IsSkipped()) return;
  auto led = ledger_with_rounds(0);
  std::mutex mutex;
  std::vector<common::Digest> acknowledged{led->head_hash()};  // by height
  // The leader dies while this writer appends, so some append is in flight when it goes.
  std::thread writer([&] {
    for (int r = 1; r <= 10; ++r) {
      record_round(*led, r);
      std::lock_guard lock(mutex);
      acknowledged.push_back(led->head_hash());
    }
  });
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return acknowledged.size() > 3;
      },
      std::chrono::seconds(20)));
  auto leader = cluster_->leader();
  if (leader.ok()) cluster_->kill(*leader);
  writer.join();
  ASSERT_TRUE(leader.ok()) << leader.error().to_string();
  ASSERT_EQ(acknowledged.size(), 11u);
  ASSERT_TRUE(cluster_->wait_for_leader(std::chrono::seconds(10)).ok());
  auto o = options();
  o.etcd.endpoints.erase(o.etcd.endpoints.begin() + *leader);  // only the survivors
  auto survivors = open_store(o);
  auto records = survivors->read_from(0);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ(records->blocks.size(), acknowledged.size());
  for (std::size_t h = 0; h < acknowledged.size(); ++h) {
    EXPECT_EQ(to_block(records->blocks[h]).value().hash, acknowledged[h]) << "block " << h;
  }
  auto report = verify_store(*survivors);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_TRUE(report->ok) << report->failure->to_string();
}

TEST(EtcdBlockRecord, EncodesAndDecodesToTheSameRecord) {
  StoredBlock b;
  b.block = {7,
             std::vector<std::uint8_t>(32, 1),
             std::vector<std::uint8_t>(32, 2),
             std::vector<std::uint8_t>(32, 3),
             std::vector<std::uint8_t>(32, 4),
             std::vector<std::uint8_t>(64, 5),
             1234,
             2};
  b.txs.push_back({7,
                   0,
                   std::vector<std::uint8_t>(32, 6),
                   std::vector<std::uint8_t>(32, 7),
                   {1, 2, 3},
                   std::vector<std::uint8_t>(64, 8),
                   4,
                   9,
                   500});
  b.txs.push_back({7,
                   1,
                   std::vector<std::uint8_t>(32, 6),
                   std::vector<std::uint8_t>(32, 7),
                   {},
                   std::vector<std::uint8_t>(64, 8),
                   2,
                   10,
                   std::nullopt});
  const auto bytes = encode_stored_block(b);
  auto back = decode_stored_block(bytes, "test");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(encode_stored_block(*back), bytes);
  EXPECT_EQ(back->txs[0].amount, 500u);
  EXPECT_FALSE(back->txs[1].amount.has_value());
}

TEST(EtcdBlockRecord, EveryTruncationOrTrailingByteIsReportedAsCorrupt) {
  StoredBlock b;
  b.block.hash.assign(32, 1);
  b.txs.push_back({0, 0, std::vector<std::uint8_t>(32, 6), {}, {1, 2, 3}, {}, 4, 9, 500});
  auto bytes = encode_stored_block(b);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto cut = decode_stored_block(std::span(bytes.data(), n), "key k");
    ASSERT_FALSE(cut.ok()) << n;
    EXPECT_EQ(cut.error().code, ErrorCode::kCorrupt);
  }
  bytes.push_back(0);
  EXPECT_FALSE(decode_stored_block(bytes, "key k").ok());
}

TEST(EtcdBlockStoreOpen, FailsNamingTheMemberWhenNoneAnswers) {
  EtcdStoreOptions o;
  o.etcd.endpoints = {"http://127.0.0.1:1"};  // nothing listens on port 1
  o.etcd.retry_budget = std::chrono::milliseconds(200);
  auto store = EtcdBlockStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find("http://127.0.0.1:1"), std::string::npos)
      << store.error().message;
}

TEST_F(EtcdBlockStoreTest, ABlockRewrittenWithADirectPutFailsVerificationAtItsHeightAndIsWatched) {
  auto led = ledger_with_rounds(3);
  auto watch = ChainRewriteWatch::start(options());
  ASSERT_TRUE(watch.ok()) << watch.error().to_string();
  auto store = open_store();
  const std::string key = block_key(store->prefix(), 2);
  auto raw = store->client().get(key);
  ASSERT_TRUE(raw.ok() && raw->has_value());
  const std::string& value = (*raw)->value;
  const std::string header = value.substr(0, 5);  // "FLB1" and the inline kind
  auto stored = decode_stored_block(
      std::span(reinterpret_cast<const std::uint8_t*>(value.data()) + 5, value.size() - 5), key);
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  stored->txs[2].body.back() ^= 1;  // a reward mint's amount, last byte of its body
  const auto bytes = encode_stored_block(*stored);
  ASSERT_TRUE(store->client().put(key, header + std::string(bytes.begin(), bytes.end())).ok());

  auto report = verify_store(*store);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_FALSE(report->ok);
  EXPECT_EQ(report->failure->height, 2u) << report->failure->to_string();

  std::vector<ChainRewrite> seen;
  test::wait_until(
      [&] {
        auto got = (*watch)->poll(std::chrono::milliseconds(200));
        if (got.ok()) seen.insert(seen.end(), got->begin(), got->end());
        return !seen.empty();
      },
      std::chrono::seconds(5));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].height, 2u);
  EXPECT_EQ(seen[0].key, key);
}

}  // namespace
}  // namespace fl::ledger
