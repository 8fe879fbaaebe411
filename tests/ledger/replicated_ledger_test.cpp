// Ledgers whose store is the etcd chain with a local SQLite replica, against real etcd members:
// replicas agree with etcd, a block rewritten in etcd is named by the watchdog and refused by
// every replica, no round is recorded while etcd has no quorum, and an owner that lost its
// lease cannot append.
#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "fl/ledger/chain_watchdog.hpp"
#include "fl/ledger/checkpoint.hpp"
#include "fl/ledger/job_owner_lease.hpp"
#include "fl/ledger/replicated_block_store.hpp"
#include "ledger_fixture.hpp"
#include "support/etcd_cluster.hpp"
#include "support/process.hpp"

namespace fl::ledger {
namespace {

using namespace std::chrono_literals;
using test::authority_key;
using test::EtcdCluster;

class ReplicatedLedgerTest : public ::testing::Test {
 protected:
  void start_cluster(int members) {
    if (!EtcdCluster::binary())
      GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    auto c = EtcdCluster::start(members);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    cluster_ = std::move(c).value();
  }
  EtcdStoreOptions store_options() const {
    EtcdStoreOptions o;
    o.etcd = cluster_->options();
    o.chain = "replicas";
    return o;
  }
  std::filesystem::path replica(const std::string& name) const { return dir_.path() / name; }
  Result<std::unique_ptr<ReplicatedBlockStore>> open_replica(const std::string& name,
                                                             EtcdStoreOptions o) {
    ReplicaOptions r;
    r.store = std::move(o);
    r.replica_db = replica(name);
    r.stop = &stop_;
    r.retry_pause = 200ms;
    return ReplicatedBlockStore::open(std::move(r));
  }
  std::unique_ptr<Ledger> open_ledger(const std::string& name, const std::optional<Consortium>& consortium = std::nullopt) {
    auto store = open_replica(name, store_options());
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    if (!store.ok()) return nullptr;
    auto led = Ledger::open(std::move(store).value());
    EXPECT_TRUE(led.ok()) << led.error().to_string();
    if (!led.ok()) return nullptr;
    EXPECT_TRUE((*led)->initialize(authority_key(), consortium).ok());
    return std::move(led).value();
  }
  static Status record_round(Ledger& led, const std::string& job, int round) {
    auto receipts = led.record_round(
        authority_key(), test::researcher_key(), test::job_record(job), test::registrations(4),
        test::round_record(round, {0, 1, 2}, {0.9, 0.6, 0.3}, {3}, job));
    if (!receipts.ok()) return receipts.error();
    return ok_status();
  }
  std::optional<BlockRecord> etcd_head() {
    auto store = EtcdBlockStore::open(store_options());
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    auto head = (*store)->head();
    EXPECT_TRUE(head.ok()) << head.error().to_string();
    return head.ok() ? *head : std::nullopt;
  }
  std::uint64_t replica_blocks(const std::string& name) {
    auto store = open_sqlite_block_store(replica(name), StoreAccess::kReadOnly);
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    auto n = (*store)->block_count();
    return n.ok() ? *n : 0;
  }
  // Rewrites block `height` in etcd behind the store's back: flips the last byte of a mint.
  void rewrite_block(std::uint64_t height) {
    auto store = EtcdBlockStore::open(store_options());
    ASSERT_TRUE(store.ok());
    const std::string key = block_key((*store)->prefix(), height);
    auto raw = (*store)->client().get(key);
    ASSERT_TRUE(raw.ok() && raw->has_value());
    const std::string& value = (*raw)->value;
    auto stored = decode_stored_block(
        std::span(reinterpret_cast<const std::uint8_t*>(value.data()) + 5, value.size() - 5), key);
    ASSERT_TRUE(stored.ok()) << stored.error().to_string();
    stored->txs.back().body.back() ^= 1;
    const auto bytes = encode_stored_block(*stored);
    ASSERT_TRUE((*store)
                    ->client()
                    .put(key, value.substr(0, 5) + std::string(bytes.begin(), bytes.end()))
                    .ok());
  }

  test::TempDir dir_{"fl-replicas"};
  std::atomic<bool> stop_{false};
  std::unique_ptr<EtcdCluster> cluster_;
};

TEST_F(ReplicatedLedgerTest, TwoWritersAndAFreshReplicaReportEtcdsHeightAndHeadHash) {
  start_cluster(3);
  auto a = open_ledger("a.db");
  auto b = open_ledger("b.db");
  ASSERT_TRUE(a && b);
  for (int r = 1; r <= 3; ++r) {  // two jobs interleaved on one chain: each catches up first
    ASSERT_TRUE(record_round(*a, "job-a", r).ok());
    ASSERT_TRUE(record_round(*b, "job-b", r).ok());
  }
  auto c = open_ledger("c.db");  // a third replica, filled and verified from etcd
  ASSERT_TRUE(c);
  ASSERT_TRUE(a->initialize(authority_key()).ok());  // catches up with b's last block
  const auto head = etcd_head();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->height, 6u);
  for (const auto* led : {a.get(), b.get(), c.get()}) {
    EXPECT_EQ(led->height(), head->height);
    EXPECT_EQ(common::to_hex(led->head_hash()), common::to_hex(head->hash));
  }
  for (const auto* name : {"a.db", "b.db", "c.db"}) {
    auto report = verify_ledger(replica(name));
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok) << name << ": " << report->failure->to_string();
    EXPECT_EQ(common::to_hex(report->head_hash), common::to_hex(head->hash)) << name;
  }
}

TEST_F(ReplicatedLedgerTest, ABlockRewrittenInEtcdIsNamedByTheWatchdogAndRefusedByReplicas) {
  start_cluster(1);
  auto led = open_ledger("a.db");
  ASSERT_TRUE(led);
  for (int r = 1; r <= 3; ++r) ASSERT_TRUE(record_round(*led, "job-1", r).ok());
  std::vector<ChainRewrite> alarms;
  std::mutex mutex;
  auto watchdog = ChainWatchdog::start(store_options(), [&](const ChainRewrite& rw) {
    const std::lock_guard lock(mutex);
    alarms.push_back(rw);
  });
  ASSERT_TRUE(watchdog.ok()) << watchdog.error().to_string();

  rewrite_block(2);
  ASSERT_TRUE(test::wait_until(
      [&] {
        const std::lock_guard lock(mutex);
        return !alarms.empty() && (*watchdog)->rewrites() > 0;
      },
      5s));
  EXPECT_EQ((*watchdog)->last_height(), 2u);
  {
    const std::lock_guard lock(mutex);
    ASSERT_EQ(alarms.size(), 1u);
    EXPECT_EQ(alarms[0].height, 2u);
    EXPECT_FALSE(alarms[0].deleted);
  }
  auto existing = open_replica("a.db", store_options());  // holds the original block 2
  ASSERT_FALSE(existing.ok());
  EXPECT_NE(existing.error().message.find("block 2 in"), std::string::npos)
      << existing.error().message;
  auto fresh = open_replica("fresh.db", store_options());  // verification fails before the copy
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.error().message.find("fails verification: block 2"), std::string::npos)
      << fresh.error().message;
  EXPECT_EQ(replica_blocks("fresh.db"), 0u);  // nothing of a chain that fails gets in
  auto etcd = EtcdBlockStore::open(store_options());
  auto report = verify_store(**etcd);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->ok);
  EXPECT_EQ(report->failure->height, 2u);
}

TEST_F(ReplicatedLedgerTest, WithoutQuorumNoRoundIsRecordedAndRecordingResumesWithoutAFork) {
  start_cluster(3);
  auto led = open_ledger("a.db");
  ASSERT_TRUE(led);
  ASSERT_TRUE(record_round(*led, "job-1", 1).ok());
  ASSERT_TRUE(record_round(*led, "job-1", 2).ok());
  const auto leader = cluster_->leader();
  ASSERT_TRUE(leader.ok());
  const int keep = *leader, first = (keep + 1) % 3, second = (keep + 2) % 3;
  cluster_->kill(first);
  cluster_->kill(second);

  auto round3 = std::async(std::launch::async, [&] { return record_round(*led, "job-1", 3); });
  EXPECT_EQ(round3.wait_for(4s), std::future_status::timeout)
      << "a round was recorded without quorum";
  EXPECT_EQ(replica_blocks("a.db"), 3u);  // genesis and rounds 1-2: nothing local-only

  ASSERT_TRUE(cluster_->restart(first).ok());
  ASSERT_EQ(round3.wait_for(30s), std::future_status::ready);
  const auto recorded = round3.get();
  ASSERT_TRUE(recorded.ok()) << recorded.error().to_string();
  ASSERT_TRUE(record_round(*led, "job-1", 4).ok());

  const auto head = etcd_head();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->height, 4u);  // one block per round, none twice
  EXPECT_EQ(common::to_hex(led->head_hash()), common::to_hex(head->hash));
  auto fresh = open_replica("fresh.db", store_options());
  ASSERT_TRUE(fresh.ok()) << fresh.error().to_string();
  EXPECT_TRUE((*fresh)->opening_report().ok);
  EXPECT_EQ(common::to_hex((*fresh)->opening_report().head_hash), common::to_hex(head->hash));
  ASSERT_TRUE(led->last_round("job-1").has_value());
  EXPECT_EQ(led->last_round("job-1")->round, 4u);
}

TEST_F(ReplicatedLedgerTest, AnOwnerThatLostItsLeaseCannotAppendAndTheNextOwnerCan) {
  start_cluster(1);
  auto first = JobOwnerLease::acquire(store_options(), "job-1", "coordinator-a", 2, &stop_);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto owned = open_replica("a.db", (*first)->guarded(store_options()));
  ASSERT_TRUE(owned.ok()) << owned.error().to_string();
  auto led = Ledger::open(std::move(owned).value());
  ASSERT_TRUE(led.ok());
  ASSERT_TRUE((*led)->initialize(authority_key()).ok());
  ASSERT_TRUE(record_round(**led, "job-1", 1).ok());

  // What a pause past the TTL does: etcd ends the lease and the owner key goes with it.
  auto admin = EtcdClient::create(cluster_->options());
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->revoke_lease((*first)->lease_id()).ok());
  const auto refused = record_round(**led, "job-1", 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kPrecondition) << refused.error().to_string();
  EXPECT_NE(refused.error().message.find("owner lease"), std::string::npos)
      << refused.error().message;
  EXPECT_TRUE(test::wait_until([&] { return !(*first)->held(); }, 5s));

  auto second = JobOwnerLease::acquire(store_options(), "job-1", "coordinator-b", 2, &stop_);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  auto taken = open_replica("b.db", (*second)->guarded(store_options()));
  ASSERT_TRUE(taken.ok()) << taken.error().to_string();
  auto next = Ledger::open(std::move(taken).value());
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(record_round(**next, "job-1", 2).ok());
  EXPECT_EQ((*next)->last_round("job-1")->round, 2u);
  EXPECT_EQ((*next)->height(), 2u);  // round 2 once: the refused try left nothing
}

}  // namespace
}  // namespace fl::ledger

namespace fl::ledger {
namespace {

// Old history leaves etcd below a final checkpoint (`fl-ledger archive`, the real binary); the
// replicas keep serving and recording, a replica without the archived blocks is told to seed
// itself from a member's copy, a marker whose checkpoint the witnesses did not cosign stops the
// replicas, and the watch stays quiet about the archived deletes but not about another one.
TEST_F(ReplicatedLedgerTest, HistoryBelowAFinalCheckpointIsArchivedOutOfEtcdAndTheReplicasKeepIt) {
  start_cluster(1);
  const auto witness = common::key_pair_from_label("archive-witness-0");
  Consortium consortium;
  consortium.members = {authority_key().public_key};
  consortium.witnesses = {witness.public_key, common::key_pair_from_label("archive-witness-1").public_key};
  consortium.minters = {authority_key().public_key};
  consortium.quorum = 1;
  auto led = open_ledger("a.db", consortium);
  ASSERT_TRUE(led);
  for (int r = 1; r <= 4; ++r) ASSERT_TRUE(record_round(*led, "job-1", r).ok());
  const auto head = led->height();
  ASSERT_GE(head, 4u);
  std::atomic<int> alarms{0};
  std::atomic<std::uint64_t> alarm_height{0};
  auto watchdog = ChainWatchdog::start(store_options(), [&](const ChainRewrite& rw) {
    alarm_height = rw.height;
    ++alarms;
  });
  ASSERT_TRUE(watchdog.ok()) << watchdog.error().to_string();

  // A checkpoint at height 3, final by the consortium's quorum (one witness of two). It is read
  // from etcd: a read-only SQLite connection to a.db opened and closed in this process would
  // drop the process's POSIX locks on it, and the archive command's close would then remove the
  // -wal file under the ledger still writing it.
  auto before = EtcdBlockStore::open(store_options());
  ASSERT_TRUE(before.ok());
  auto chain = read_verified_chain(**before);
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  const auto at = chain->checkpoint_at(3);
  const common::CosignedCheckpoint cp{at, {common::cosign_checkpoint(at, witness)}};
  std::ofstream(dir_ / "cp.json") << common::cosigned_checkpoint_to_json(cp);
  ASSERT_TRUE(common::save_key_file(dir_ / "member.key", authority_key()).ok());
  std::string urls;
  for (const auto& e : cluster_->options().endpoints) urls += (urls.empty() ? "" : ",") + e;
  const auto out = dir_ / "archive.out";
  test::ChildProcess archive({test::binary("fl-ledger"), "archive", "--etcd", urls, "--chain", "replicas", "--db",
                              replica("a.db").string(), "--checkpoint", (dir_ / "cp.json").string(), "--key",
                              (dir_ / "member.key").string()},
                             out);
  ASSERT_EQ(archive.wait(60s), 0) << test::read_file(out);
  EXPECT_NE(test::read_file(out).find("archived blocks 0-2"), std::string::npos) << test::read_file(out);

  // etcd holds block 3 on, and says why it does not hold the rest.
  auto etcd = EtcdBlockStore::open(store_options());
  ASSERT_TRUE(etcd.ok());
  auto gone = (*etcd)->read_from(0);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("archived"), std::string::npos) << gone.error().message;
  auto kept = (*etcd)->read_from(3);
  ASSERT_TRUE(kept.ok()) << kept.error().to_string();
  EXPECT_EQ(kept->blocks.front().height, 3u);
  auto raw = (*etcd)->client().get(block_key((*etcd)->prefix(), 2));
  ASSERT_TRUE(raw.ok());
  EXPECT_FALSE(raw->has_value());

  // The replica keeps every block and goes on recording on the shortened etcd chain.
  ASSERT_TRUE(record_round(*led, "job-1", 5).ok());
  EXPECT_EQ(led->height(), head + 1);
  auto report = verify_ledger(replica("a.db"));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->blocks, head + 2);

  // A replica that lacks the archived blocks is told where to get them; a copy of a member's works.
  auto fresh = open_replica("b.db", store_options());
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.error().message.find("Seed it with a copy of a member's replica"), std::string::npos)
      << fresh.error().message;
  led.reset();
  std::filesystem::copy_file(replica("a.db"), replica("c.db"));
  {
    auto copy = open_replica("c.db", store_options());
    ASSERT_TRUE(copy.ok()) << copy.error().to_string();
    EXPECT_EQ((*copy)->opening_report().blocks, head + 2);
  }

  // A marker whose checkpoint no witness cosigned: the replicas refuse the chain.
  const std::string marker_key = (*etcd)->prefix() + "archive";
  auto genuine = (*etcd)->client().get(marker_key);
  ASSERT_TRUE(genuine.ok() && genuine->has_value());
  ArchiveMarker forged;
  forged.below = 4;
  forged.checkpoint = {chain->checkpoint_at(4),
                       {common::cosign_checkpoint(chain->checkpoint_at(4), common::key_pair_from_label("stranger"))}};
  ASSERT_TRUE((*etcd)->client().put(marker_key, archive_marker_json(forged)).ok());
  auto refused = open_replica("c.db", store_options());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not final by the consortium's witnesses"), std::string::npos)
      << refused.error().message;
  ASSERT_TRUE((*etcd)->client().put(marker_key, (*genuine)->value).ok());

  // The archived deletes raised no alarm; a delete above the archive does.
  EXPECT_EQ(alarms.load(), 0);
  ASSERT_TRUE((*etcd)->client().erase(block_key((*etcd)->prefix(), head + 1)).ok());
  ASSERT_TRUE(test::wait_until([&] { return alarms.load() > 0; }, 5s));
  EXPECT_EQ(alarm_height.load(), head + 1);
}

}  // namespace
}  // namespace fl::ledger
