// A worker's policy file: how it is read (errors name the file and key, unknown keys are
// refused), which clause a job's terms break, and the training hours it allows.
#include <gtest/gtest.h>

#include "fl/worker/policy.hpp"
#include "support/builders.hpp"

namespace fl::worker {
namespace {

common::JobTerms terms() {
  auto t = test::job_terms("fmnist", common::key_pair_from_label("researcher").public_key,
                           common::key_pair_from_label("coordinator").public_key);
  t.rounds = 20;
  t.privacy = common::TermsPrivacy{3.0, 1e-5};
  t.retention_days = 7;
  return t;
}

WorkerPolicy policy(const std::string& body) {
  auto p = parse_policy("[policy]\n" + body, "policy.toml");
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? *p : WorkerPolicy{};
}

std::string refusal(const std::string& body, const common::JobTerms& t = terms()) {
  return policy_refusal(policy(body), t).value_or("accepted");
}

TEST(WorkerPolicy, AnEmptyPolicyAcceptsAnyTerms) { EXPECT_EQ(refusal(""), "accepted"); }

TEST(WorkerPolicy, EachClauseRefusesTermsThatBreakItAndNamesItself) {
  const auto researcher = common::to_hex(common::key_pair_from_label("researcher").public_key);
  const auto other = common::to_hex(common::key_pair_from_label("other").public_key);
  EXPECT_EQ(refusal("researchers = [\"" + researcher + "\"]"), "accepted");
  EXPECT_NE(refusal("researchers = [\"" + other + "\"]").find("policy.toml: researchers does not list"),
            std::string::npos);
  EXPECT_NE(refusal("min_reward_per_round = 2000").find("min_reward_per_round = 2000, but the job pays 1000"),
            std::string::npos);
  EXPECT_NE(refusal("max_epsilon = 1.0").find("max_epsilon = 1, but the job's DP target is epsilon 3"),
            std::string::npos);
  EXPECT_EQ(refusal("max_epsilon = 8.0"), "accepted");
  auto no_dp = terms();
  no_dp.privacy.reset();
  EXPECT_NE(refusal("max_epsilon = 8.0", no_dp).find("no differential-privacy promise"), std::string::npos);
  EXPECT_NE(refusal("require_dp = true", no_dp).find("require_dp = true"), std::string::npos);
  EXPECT_NE(refusal("max_rounds = 10").find("max_rounds = 10, but the job runs 20 rounds"), std::string::npos);
  EXPECT_NE(refusal("max_retention_days = 1").find("keeps updates 7 days"), std::string::npos);
  EXPECT_NE(refusal("models = [\"cnn\"]").find("runs a 'mlp' model"), std::string::npos);
  auto shipped = terms();
  shipped.model = "torchscript:/srv/net.pt";
  EXPECT_EQ(refusal("models = [\"torchscript\"]", shipped), "accepted");
}

TEST(WorkerPolicy, BadValuesAndUnknownKeysAreRefusedWithFileAndKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"max_epsion = 3.0", "max_epsion"},
      {"hours = \"25-3\"", "policy.hours"},
      {"hours = \"night\"", "START-END"},
      {"memory_mb = 10", "at least 256"},
      {"researchers = [\"abc\"]", "policy.researchers[0]"},
      {"max_rounds = -1", "policy.max_rounds"}};
  for (const auto& [body, expected] : cases) {
    auto p = parse_policy("[policy]\n" + body, "policy.toml");
    ASSERT_FALSE(p.ok()) << body;
    EXPECT_NE(p.error().message.find(expected), std::string::npos) << body << ": " << p.error().message;
  }
  EXPECT_FALSE(load_policy("/nonexistent/policy.toml").ok());
}

TEST(WorkerPolicy, TrainingHoursWrapAroundMidnight) {
  const auto night = policy("hours = \"22-7\"");
  const auto day = policy("hours = \"9-17\"");
  std::tm t{};
  t.tm_year = 126;
  t.tm_mday = 2;
  t.tm_isdst = -1;
  const auto at = [&t](int hour) {
    t.tm_hour = hour;
    return std::mktime(&t);
  };
  EXPECT_TRUE(may_train_at(night, at(23)));
  EXPECT_TRUE(may_train_at(night, at(3)));
  EXPECT_FALSE(may_train_at(night, at(12)));
  EXPECT_TRUE(may_train_at(day, at(9)));
  EXPECT_FALSE(may_train_at(day, at(17)));
  EXPECT_TRUE(may_train_at(policy(""), at(12)));
}

TEST(WorkerPolicy, ThreadsCapTheTorchThreads) {
  int threads = 8;
  ASSERT_TRUE(apply_resource_limits(policy("threads = 2"), threads).ok());
  EXPECT_EQ(threads, 2);
  threads = 1;
  ASSERT_TRUE(apply_resource_limits(policy("threads = 2"), threads).ok());
  EXPECT_EQ(threads, 1);
}

}  // namespace
}  // namespace fl::worker
