// The job card: signed by the researcher, read back whole, refused when changed, and the
// Ed25519 -> X25519 conversion that gives each party one identity for signing and CURVE.
#include "fl/common/job_card.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "fl/common/wire.hpp"
#include "support/builders.hpp"

namespace fl::common {
namespace {

std::span<const std::uint8_t> bytes_of_string(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

JobCard signed_card() {
  JobCard card{"tcp://lab.example.org:5555",
               key_pair_from_label("coordinator").public_key,
               "mnist-2026",
               {},
               blake2b_256("model"),
               blake2b_256("terms"),
               {}};
  sign_job_card(card, key_pair_from_label("researcher"));
  return card;
}

TEST(JobCard, ASavedCardLoadsBackWithEveryField) {
  test::TempDir dir{"fl-card"};
  const auto card = signed_card();
  ASSERT_TRUE(save_job_card(dir.path() / "job.card", card).ok());
  auto loaded = load_job_card(dir.path() / "job.card");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->endpoint, card.endpoint);
  EXPECT_EQ(loaded->coordinator_key, card.coordinator_key);
  EXPECT_EQ(loaded->job_id, card.job_id);
  EXPECT_EQ(loaded->researcher_key, key_pair_from_label("researcher").public_key);
  EXPECT_EQ(loaded->model_digest, card.model_digest);
  EXPECT_EQ(loaded->terms_digest, card.terms_digest);
}

TEST(JobCard, ACardWithAnotherCoordinatorKeyIsRefused) {
  test::TempDir dir{"fl-card"};
  auto card = signed_card();
  card.coordinator_key = key_pair_from_label("impostor").public_key;
  ASSERT_TRUE(save_job_card(dir.path() / "job.card", card).ok());
  auto loaded = load_job_card(dir.path() / "job.card");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kBadSignature);
  EXPECT_NE(loaded.error().message.find("ask the researcher for a new one"), std::string::npos);
}

TEST(JobCard, ACardMissingAFieldNamesIt) {
  test::TempDir dir{"fl-card"};
  std::ofstream(dir.path() / "job.card") << "fedledger-job-card-v1\nendpoint tcp://a:1\n";
  auto loaded = load_job_card(dir.path() / "job.card");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("no 'job_id' line"), std::string::npos)
      << loaded.error().message;
}

TEST(CurveKeys, APartysCurveKeyDerivesFromItsSigningKey) {
  const auto key = key_pair_from_label("worker");
  const auto pair = curve_key_pair(key);
  auto from_public = curve_public_key(key.public_key);
  ASSERT_TRUE(from_public.ok());
  EXPECT_EQ(*from_public, pair.public_key);
  EXPECT_NE(pair.public_key, curve_key_pair(key_pair_from_label("other")).public_key);
}

TEST(CurveKeys, ABytesValueThatIsNoEd25519KeyIsRefused) {
  PublicKey bogus{};
  bogus.fill(0xFF);
  EXPECT_FALSE(curve_public_key(bogus).ok());
}

TEST(CoordinatorMessages, TaskShutdownAndRegistrationAnswerVerifyOnlyWithTheCoordinatorKey) {
  const auto coordinator = key_pair_from_label("coordinator"), other = key_pair_from_label("other");
  RoundTask task;
  task.job_id = "j";
  task.round = 2;
  sign_round_task(task, coordinator.secret_key);
  EXPECT_TRUE(verify_round_task(task, coordinator.public_key));
  EXPECT_FALSE(verify_round_task(task, other.public_key));
  task.training.learning_rate = 1.0;  // a changed task no longer verifies
  EXPECT_FALSE(verify_round_task(task, coordinator.public_key));
  Shutdown shutdown{"j", "done", {}};
  sign_shutdown(shutdown, coordinator.secret_key);
  EXPECT_TRUE(verify_shutdown(shutdown, coordinator.public_key));
  EXPECT_FALSE(verify_shutdown(shutdown, other.public_key));
  RegisterAck ack{true, "", "j", coordinator.public_key, {}, {}};
  sign_register_ack(ack, coordinator.secret_key);
  EXPECT_TRUE(verify_register_ack(ack, coordinator.public_key));
  const std::string encoded = encode(ack);
  auto decoded = decode<RegisterAck>(bytes_of_string(encoded));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(verify_register_ack(*decoded, coordinator.public_key));
}

TEST(CoordinatorMessages, ARegistrationIsBoundToJobCoordinatorAndChallenge) {
  const auto worker = key_pair_from_label("worker"),
             coordinator = key_pair_from_label("coordinator");
  RegisterRequest r;
  r.worker_key = worker.public_key;
  r.job_id = "j";
  r.coordinator_key = coordinator.public_key;
  r.challenge = blake2b_256("challenge");
  sign_registration(r, worker.secret_key);
  EXPECT_TRUE(verify_registration(r));
  EXPECT_TRUE(verify_registration_session(r, "j", coordinator.public_key, r.challenge).ok());
  EXPECT_FALSE(verify_registration_session(r, "k", coordinator.public_key, r.challenge).ok());
  EXPECT_FALSE(verify_registration_session(r, "j", worker.public_key, r.challenge).ok());
  EXPECT_FALSE(
      verify_registration_session(r, "j", coordinator.public_key, blake2b_256("other")).ok());
}

}  // namespace
}  // namespace fl::common
