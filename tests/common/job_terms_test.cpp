// Job terms: one canonical text and digest per set of terms, the checks on what terms may say,
// and the consent a registration carries (signed by the worker, bound to job and terms).
#include <gtest/gtest.h>

#include "fl/common/job_terms.hpp"
#include "fl/common/wire.hpp"
#include "support/builders.hpp"

namespace fl::common {
namespace {

JobTerms sample_terms() {
  auto t = test::job_terms("fmnist", key_pair_from_label("researcher").public_key,
                           key_pair_from_label("coordinator").public_key);
  t.purpose = "a clothing classifier for the shop's catalogue";
  t.rounds = 20;
  t.privacy = TermsPrivacy{3.0, 1e-5};
  t.retention_days = 30;
  t.readers = {"coordinators", "auditors"};
  return t;
}

TEST(JobTerms, TheCanonicalTextParsesBackToTheSameTermsAndDigest) {
  const auto t = sample_terms();
  const auto text = terms_text(t);
  auto back = parse_terms(text);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(terms_digest(*back), terms_digest(t));
  auto without_dp = t;
  without_dp.privacy.reset();
  auto back2 = parse_terms(terms_text(without_dp));
  ASSERT_TRUE(back2.ok()) << back2.error().to_string();
  EXPECT_FALSE(back2->privacy.has_value());
}

TEST(JobTerms, EveryTermChangesTheDigest) {
  const auto base = terms_digest(sample_terms());
  std::vector<JobTerms> changed(8, sample_terms());
  changed[0].purpose += ".";
  changed[1].rounds = 21;
  changed[2].reward_per_round = 999;
  changed[3].privacy->epsilon = 3.0000001;
  changed[4].retention_days = 31;
  changed[5].readers.pop_back();
  changed[6].coordinators.push_back(key_pair_from_label("second").public_key);
  changed[7].bounty = 1;
  for (std::size_t i = 0; i < changed.size(); ++i) EXPECT_NE(terms_digest(changed[i]), base) << i;
}

TEST(JobTerms, TextThatIsNotCanonicalOrHoldsUnknownTermsIsRefused) {
  const auto text = terms_text(sample_terms());
  auto spaced = parse_terms(" " + text);
  ASSERT_FALSE(spaced.ok());
  EXPECT_NE(spaced.error().message.find("canonical"), std::string::npos) << spaced.error().message;
  auto extra = text;
  extra.insert(1, "\"zz_extra\":1,");
  auto unknown = parse_terms(extra);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown term 'zz_extra'"), std::string::npos) << unknown.error().message;
  EXPECT_FALSE(parse_terms("{not json").ok());
  EXPECT_FALSE(parse_terms(std::string(kMaxTermsBytes + 1, ' ')).ok());
}

TEST(JobTerms, TermsThatPromiseNothingUsableAreNamed) {
  auto t = sample_terms();
  t.purpose.clear();
  EXPECT_NE(terms_problem(t).value_or("").find("purpose"), std::string::npos);
  t = sample_terms();
  t.privacy->delta = 1.5;
  EXPECT_NE(terms_problem(t).value_or("").find("delta"), std::string::npos);
  t = sample_terms();
  t.coordinators.clear();
  EXPECT_NE(terms_problem(t).value_or("").find("no coordinator"), std::string::npos);
  t = sample_terms();
  t.coordinators.push_back(t.coordinators.front());
  EXPECT_NE(terms_problem(t).value_or("").find("twice"), std::string::npos);
  EXPECT_FALSE(terms_problem(sample_terms()).has_value());
  EXPECT_EQ(model_kind("torchscript:/models/net.pt"), "torchscript");
  EXPECT_EQ(model_kind("cnn"), "cnn");
}

TEST(JobTerms, ARegistrationCarriesAConsentBoundToTheWorkerJobAndTerms) {
  const auto worker = key_pair_from_label("worker");
  RegisterRequest req;
  req.worker_key = worker.public_key;
  req.job_id = "fmnist";
  req.timestamp_ms = 1234;
  req.challenge = blake2b_256(std::string("challenge"));
  req.terms_digest = terms_digest(sample_terms());
  sign_registration(req, worker.secret_key);
  EXPECT_TRUE(verify_consent(req));
  const auto bytes = encode(req);
  auto decoded = decode<RegisterRequest>(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_TRUE(verify_consent(*decoded));
  auto other_job = req;
  other_job.job_id = "other";
  EXPECT_FALSE(verify_consent(other_job));
  auto other_terms = req;
  other_terms.terms_digest[0] ^= 1;
  EXPECT_FALSE(verify_consent(other_terms));
  auto none = req;
  none.terms_digest = {};
  EXPECT_FALSE(verify_consent(none));
}

TEST(JobTerms, TheChallengeAnswerCarriesTheTermsUnderTheCoordinatorsSignature) {
  const auto coordinator = key_pair_from_label("coordinator");
  RegisterAck ack;
  ack.job_id = "fmnist";
  ack.coordinator_key = coordinator.public_key;
  ack.challenge = blake2b_256(std::string("challenge"));
  ack.terms = terms_text(sample_terms());
  ack.terms_signature = sign(key_pair_from_label("researcher").secret_key, terms_digest(sample_terms()));
  sign_register_ack(ack, coordinator.secret_key);
  const auto bytes = encode(ack);
  auto back = decode<RegisterAck>(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->terms, ack.terms);
  EXPECT_TRUE(verify_register_ack(*back, coordinator.public_key));
  back->terms[10] ^= 1;  // the coordinator's signature covers the terms
  EXPECT_FALSE(verify_register_ack(*back, coordinator.public_key));
}

}  // namespace
}  // namespace fl::common
