#include <gtest/gtest.h>

#include <limits>

#include "fl/coordinator/update_validator.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

class UpdateValidation : public ::testing::Test {
 protected:
  InboundMessage envelope(const test::SignedUpdate& u) {
    return {"peer", common::MessageType::kUpdate, SharedBytes::copy_of(common::encode(u.header)),
            SharedBytes::copy_of(u.payload()), ""};
  }
  test::SignedUpdate good(std::vector<float> values = test::ramp(9)) {
    auto u = test::make_signed_update(key_, "job", 2, layout_, std::move(values));
    u.header.base_model_digest = base_;
    common::sign_update(u.header, key_.secret_key);
    return u;
  }
  Result<ValidatedUpdate> check(const test::SignedUpdate& u) { return validate_update(envelope(u), expect_, rejection_); }

  common::KeyPair key_ = common::key_pair_from_label("worker");
  common::TensorLayout layout_ = test::small_layout();
  common::Digest base_ = common::blake2b_256(std::string_view("global"));
  std::set<common::PublicKey> sampled_{key_.public_key};
  RoundExpectation expect_{"job", 2, base_, &layout_, &sampled_, 1000, 0, &key_.public_key};
  Rejection rejection_;
};

TEST_F(UpdateValidation, AcceptsAWellFormedSignedUpdate) {
  auto r = check(good());
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->values.size(), 9u);
  EXPECT_EQ(r->values[3], 1.5f);
}

TEST_F(UpdateValidation, RejectsUpdateWithForgedSignature) {
  auto u = good();
  common::sign_update(u.header, common::key_pair_from_label("mallory").secret_key);
  auto r = check(u);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kBadSignature);
  EXPECT_EQ(rejection_.standing, Standing::kBadSignature);
}

TEST_F(UpdateValidation, ChecksTheSignatureBeforeAskingWhetherTheKeyWasSampled) {
  sampled_.clear();
  auto u = good();
  common::sign_update(u.header, common::key_pair_from_label("mallory").secret_key);
  EXPECT_EQ(check(u).error().code, ErrorCode::kBadSignature);
  EXPECT_EQ(rejection_.standing, Standing::kBadSignature);
}

TEST_F(UpdateValidation, RejectsAnUpdateNamingAKeyOtherThanTheConnectionRegistered) {
  const auto other = common::key_pair_from_label("other").public_key;
  expect_.sender = &other;
  EXPECT_FALSE(check(good()).ok());
  EXPECT_EQ(rejection_.standing, Standing::kUnregistered);
  EXPECT_NE(rejection_.reason.find("this connection registered"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsAnUpdateFromAConnectionWithNoRegisteredKey) {
  expect_.sender = nullptr;
  EXPECT_FALSE(check(good()).ok());
  EXPECT_EQ(rejection_.standing, Standing::kUnregistered);
}

TEST_F(UpdateValidation, ARejectionAfterTheSignatureVerifiedIsVerified) {
  auto u = good();
  u.header.num_samples = 5000;
  common::sign_update(u.header, key_.secret_key);
  EXPECT_FALSE(check(u).ok());
  EXPECT_EQ(rejection_.standing, Standing::kVerified);
}

TEST_F(UpdateValidation, AcceptsAPayloadThatArrivedAtAnUnalignedAddress) {
  // ZeroMQ delivers small frames from inside its receive buffer, at any offset.
  auto u = good();
  auto buffer = std::make_shared<std::vector<std::uint8_t>>(u.payload().size() + 1);
  std::copy(u.payload().begin(), u.payload().end(), buffer->begin() + 1);
  InboundMessage m = envelope(u);
  m.payload = {buffer, std::span<const std::uint8_t>(buffer->data() + 1, u.payload().size())};
  auto r = validate_update(m, expect_, rejection_);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->values[3], 1.5f);
}

TEST_F(UpdateValidation, RejectsWrongShape) {
  common::TensorLayout other = layout_;
  other.tensors[0].shape = {3, 2};
  auto u = test::make_signed_update(key_, "job", 2, other, test::ramp(9));
  u.header.base_model_digest = base_;
  common::sign_update(u.header, key_.secret_key);
  auto r = check(u);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(rejection_.reason.find("wrong shape"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsNonFiniteValues) {
  auto values = test::ramp(9);
  values[4] = std::numeric_limits<float>::quiet_NaN();
  auto r = check(good(values));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(rejection_.reason.find("non-finite value at index 4"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsUpdateForAnotherRound) {
  auto u = test::make_signed_update(key_, "job", 1, layout_, test::ramp(9));
  u.header.base_model_digest = base_;
  common::sign_update(u.header, key_.secret_key);
  auto r = check(u);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(rejection_.reason.find("round 1"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsUpdateFromAWorkerNotAsked) {
  sampled_.clear();
  EXPECT_FALSE(check(good()).ok());
  EXPECT_NE(rejection_.reason.find("was not asked"), std::string::npos);
  EXPECT_EQ(rejection_.standing, Standing::kUnsampled);
}

TEST_F(UpdateValidation, RejectsPayloadShorterThanTheLayout) {
  auto u = good();
  u.values.pop_back();
  u.header.payload_digest = common::blake2b_256(u.payload());
  common::sign_update(u.header, key_.secret_key);
  EXPECT_FALSE(check(u).ok());
  EXPECT_NE(rejection_.reason.find("layout needs 36"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsImplausibleSampleCount) {
  auto u = good();
  u.header.num_samples = 5000;
  common::sign_update(u.header, key_.secret_key);
  EXPECT_FALSE(check(u).ok());
  EXPECT_NE(rejection_.reason.find("sample count"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsUpdateAboveTheNormLimit) {
  expect_.max_norm = 1.0;
  EXPECT_FALSE(check(good()).ok());
  EXPECT_NE(rejection_.reason.find("norm"), std::string::npos);
}

TEST_F(UpdateValidation, RejectsGarbageHeader) {
  InboundMessage message{"peer", common::MessageType::kUpdate, SharedBytes::copy_of(std::string_view("garbage")), {}, ""};
  auto r = validate_update(message, expect_, rejection_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
}

}  // namespace
}  // namespace fl::coordinator
