// Members fetching each other's update stores over CURVE on 127.0.0.1: a member's store server
// admits only the keys it is told (the consortium's), a fetcher keeps only entries that check
// out against their digests, and a peer serving junk costs a retry at the next peer.
#include <gtest/gtest.h>

#include "fl/coordinator/store_service.hpp"
#include "fl/coordinator/update_store.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

class StoreServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(served_.put_update(update_.header, update_.payload()).ok());
    ASSERT_TRUE(served_.put_model(model_digest_, layout_, model_).ok());
  }
  std::unique_ptr<StoreServer> serve(const std::filesystem::path& dir, const common::KeyPair& own) {
    auto server = StoreServer::start(dir, own, "tcp://127.0.0.1:0", [this] {
      return std::vector<common::PublicKey>{member0_.public_key, member1_.public_key};
    });
    EXPECT_TRUE(server.ok()) << server.error().message;
    return server.ok() ? std::move(server).value() : nullptr;
  }
  std::vector<StoreEntry> wanted() const { return {{false, update_digest_}, {true, model_digest_}}; }

  test::TempDir tmp_{"fl-store-service"};
  common::KeyPair member0_ = common::key_pair_from_label("store-member-0");
  common::KeyPair member1_ = common::key_pair_from_label("store-member-1");
  common::KeyPair stranger_ = common::key_pair_from_label("store-stranger");
  common::TensorLayout layout_ = test::small_layout();
  test::SignedUpdate update_ = test::make_signed_update(common::key_pair_from_label("store-worker"), "job", 2, layout_,
                                                        test::ramp(static_cast<std::size_t>(layout_.numel())));
  common::Digest update_digest_ = common::update_signing_digest(update_.header);
  std::vector<float> model_ = test::ramp(static_cast<std::size_t>(layout_.numel()), 1.0f);
  common::Digest model_digest_ = common::digest_of(model_);
  UpdateStore served_{tmp_.path() / "served"};
};

TEST_F(StoreServiceTest, PutRawKeepsWhatChecksOutAndRemovesWhatDoesNot) {
  UpdateStore mine(tmp_.path() / "mine");
  auto update_bytes = served_.raw(false, update_digest_);
  auto model_bytes = served_.raw(true, model_digest_);
  ASSERT_TRUE(update_bytes.ok() && model_bytes.ok());
  EXPECT_EQ(served_.raw(true, common::Digest{}).error().code, ErrorCode::kNotFound);
  // A valid update filed under another digest, junk, and a model under the update's digest.
  auto swapped = mine.put_raw(false, common::blake2b_256("other"), *update_bytes);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(swapped.error().message.find("does not check out"), std::string::npos) << swapped.error().message;
  EXPECT_FALSE(mine.has(false, common::blake2b_256("other"))) << "what does not check out is removed";
  EXPECT_FALSE(mine.put_raw(false, update_digest_, "junk").ok());
  EXPECT_FALSE(mine.put_raw(true, update_digest_, *model_bytes).ok());
  EXPECT_FALSE(mine.has(false, update_digest_));
  EXPECT_FALSE(mine.has(true, update_digest_));
  // The real bytes under their own digests are kept and read back.
  ASSERT_TRUE(mine.put_raw(false, update_digest_, *update_bytes).ok());
  ASSERT_TRUE(mine.put_raw(true, model_digest_, *model_bytes).ok());
  EXPECT_EQ(mine.update(update_digest_)->values, update_.values);
  EXPECT_EQ(*mine.model(model_digest_), model_);
}

TEST_F(StoreServiceTest, AMemberFetchesWhatItLacksAndAbsentEntriesAreNamed) {
  auto server = serve(served_.dir(), member0_);
  ASSERT_NE(server, nullptr);
  UpdateStore mine(tmp_.path() / "mine");
  auto wanted_plus = wanted();
  wanted_plus.push_back({true, common::blake2b_256("never stored")});
  auto report = fetch_missing(mine, wanted_plus, {{server->endpoint(), member0_.public_key}}, member1_,
                              std::chrono::seconds(5));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->fetched, 2u);
  EXPECT_EQ(report->present, 0u);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("no member's store has it"), std::string::npos) << report->problems[0];
  EXPECT_EQ(mine.update(update_digest_)->values, update_.values);
  EXPECT_EQ(*mine.model(model_digest_), model_);
  EXPECT_EQ(server->served(), 2u);
  // A second fetch finds both present and asks nobody.
  auto again = fetch_missing(mine, wanted(), {{server->endpoint(), member0_.public_key}}, member1_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->present, 2u);
  EXPECT_EQ(server->served(), 2u);
}

TEST_F(StoreServiceTest, AStrangerKeyAndAWrongPinnedKeyGetNothing) {
  auto server = serve(served_.dir(), member0_);
  ASSERT_NE(server, nullptr);
  UpdateStore stranger_store(tmp_.path() / "stranger");
  auto refused = fetch_missing(stranger_store, wanted(), {{server->endpoint(), member0_.public_key}}, stranger_,
                               std::chrono::milliseconds(800));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->fetched, 0u);
  ASSERT_FALSE(refused->problems.empty());
  EXPECT_NE(refused->problems[0].find("did not answer"), std::string::npos) << refused->problems[0];
  EXPECT_GE(server->refused_connections(), 1u) << "the ZAP handler refused the stranger's key";
  EXPECT_EQ(server->served(), 0u);
  // A member pinning another key for the server does not talk to it either.
  UpdateStore mine(tmp_.path() / "mine");
  auto wrong_pin = fetch_missing(mine, wanted(), {{server->endpoint(), stranger_.public_key}}, member1_,
                                 std::chrono::milliseconds(800));
  ASSERT_TRUE(wrong_pin.ok());
  EXPECT_EQ(wrong_pin->fetched, 0u);
  EXPECT_FALSE(mine.has(false, update_digest_));
}

TEST_F(StoreServiceTest, APeerServingJunkIsSkippedForTheNextOne) {
  UpdateStore junk(tmp_.path() / "junk");
  ASSERT_TRUE(junk.put_update(update_.header, update_.payload()).ok());
  test::write_file(junk.update_path(update_digest_), "junk where the update was");
  auto bad = serve(junk.dir(), member0_);
  auto good = serve(served_.dir(), member1_);
  ASSERT_NE(bad, nullptr);
  ASSERT_NE(good, nullptr);
  UpdateStore mine(tmp_.path() / "mine");
  auto report = fetch_missing(mine, wanted(),
                              {{bad->endpoint(), member0_.public_key}, {good->endpoint(), member1_.public_key}},
                              member1_, std::chrono::seconds(5));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->fetched, 2u);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("served a bad update"), std::string::npos) << report->problems[0];
  EXPECT_EQ(mine.update(update_digest_)->values, update_.values);
}

TEST(StorePeers, ParsesEndpointsWithPinnedKeysAndNamesWhatIsWrong) {
  const auto key = common::key_pair_from_label("peer").public_key;
  auto peers = parse_store_peers("tcp://127.0.0.1:7000@" + common::to_hex(key) + ", tcp://127.0.0.1:7001@" +
                                 common::to_hex(key));
  ASSERT_TRUE(peers.ok()) << peers.error().message;
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[1].endpoint, "tcp://127.0.0.1:7001");
  EXPECT_EQ((*peers)[1].key, key);
  EXPECT_NE(parse_store_peers("tcp://127.0.0.1:7000").error().message.find("expected ENDPOINT@KEY"),
            std::string::npos);
  EXPECT_NE(parse_store_peers("tcp://127.0.0.1:7000@nothex").error().message.find("its key"), std::string::npos);
  EXPECT_FALSE(parse_store_peers("").ok());
}

}  // namespace
}  // namespace fl::coordinator
