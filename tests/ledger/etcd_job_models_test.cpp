// The job's latest model in etcd (what a member taking a job over starts from): read back only
// by the digest the ledger names, chunked past 1 MiB, one model per job, and not moved by an
// owner whose lease is gone. Real etcd on loopback; skipped without etcd.
#include "fl/ledger/etcd_job_models.hpp"

#include <gtest/gtest.h>

#include "fl/common/tensor_codec.hpp"
#include "fl/ledger/job_owner_lease.hpp"
#include "support/etcd_cluster.hpp"

namespace fl::ledger {
namespace {

using test::EtcdCluster;

class EtcdJobModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdCluster::binary())
      GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    auto c = EtcdCluster::start(1);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    cluster_ = std::move(c).value();
    options_.etcd = cluster_->options();
    options_.chain = "models";
  }
  std::size_t keys_under(const std::string& what) {
    auto client = EtcdClient::create(options_.etcd);
    const auto prefix = chain_prefix(options_.chain) + what;
    RangeRequest r;
    r.key = prefix;
    r.range_end = prefix_end(prefix);
    auto got = (*client)->range(r);
    return got.ok() ? got->kvs.size() : 0;
  }
  static std::vector<float> model(std::size_t n, float start) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i) * 1e-3f;
    return v;
  }

  std::unique_ptr<EtcdCluster> cluster_;
  EtcdStoreOptions options_;
};

TEST_F(EtcdJobModelsTest, GivesBackTheModelTheLedgerNamesChunkedAndOnlyThatOne) {
  auto models = EtcdJobModels::open(options_);
  ASSERT_TRUE(models.ok()) << models.error().to_string();
  EXPECT_EQ((*models)->get("job", common::Digest{}).error().code, ErrorCode::kNotFound);
  const auto big = model(700'000, 0.5f);  // 2.8 MB: three chunks
  const auto digest = common::digest_of(big);
  ASSERT_TRUE((*models)->put("job", digest, big).ok());
  EXPECT_EQ(keys_under("model-chunk/"), 3u);
  auto back = (*models)->get("job", digest);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, big);
  auto other = (*models)->get("job", common::digest_of(model(10, 1)));
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("etcd holds model " + common::to_hex(digest).substr(0, 16)),
            std::string::npos)
      << other.error().message;

  // The next round's model replaces it: one model per job, the old chunks deleted.
  const auto next = model(1000, 2.0f);
  ASSERT_TRUE((*models)->put("job", common::digest_of(next), next).ok());
  EXPECT_EQ(keys_under("model-chunk/"), 1u);
  EXPECT_EQ(*(*models)->get("job", common::digest_of(next)), next);

  // A chunk changed in etcd is caught.
  auto client = EtcdClient::create(options_.etcd);
  const auto chunk_key =
      chain_prefix(options_.chain) + "model-chunk/" +
      common::to_hex(common::blake2b_256(common::as_bytes(std::span<const float>(next))));
  ASSERT_TRUE((*client)->put(chunk_key, "tampered").ok());
  EXPECT_EQ((*models)->get("job", common::digest_of(next)).error().code, ErrorCode::kCorrupt);
}

TEST_F(EtcdJobModelsTest, AnOwnerWhoseLeaseEndedCannotMoveTheJobsModel) {
  auto lease = JobOwnerLease::acquire(options_, "job", "owner-a", 2, nullptr);
  ASSERT_TRUE(lease.ok()) << lease.error().to_string();
  auto models = EtcdJobModels::open((*lease)->guarded(options_));
  ASSERT_TRUE(models.ok());
  const auto first = model(100, 0);
  ASSERT_TRUE((*models)->put("job", common::digest_of(first), first).ok());
  auto client = EtcdClient::create(options_.etcd);
  ASSERT_TRUE((*client)->revoke_lease((*lease)->lease_id()).ok());  // as when etcd expires it
  const auto second = model(100, 1);
  auto moved = (*models)->put("job", common::digest_of(second), second);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, ErrorCode::kPrecondition);
  EXPECT_TRUE((*models)->get("job", common::digest_of(first)).ok())
      << "the model stays the last owner's";
}

}  // namespace
}  // namespace fl::ledger
