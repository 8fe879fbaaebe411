// Open enrolment under sybil pressure: new-key limits in the registry, the stake / approval
// requirement for sampling, and sampling that prefers workers with a history of answering.
#include "fl/coordinator/enrolment.hpp"

#include <gtest/gtest.h>

#include "fl/coordinator/worker_registry.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

using namespace std::chrono_literals;

common::RegisterRequest registration(const common::KeyPair& key) {
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.num_samples = 10;
  r.timestamp_ms = 1;
  common::sign_registration(r, key.secret_key);
  return r;
}

std::vector<common::KeyPair> keys(int n, const std::string& tag = "k") {
  std::vector<common::KeyPair> out;
  for (int i = 0; i < n; ++i) out.push_back(common::key_pair_from_label(tag + std::to_string(i)));
  return out;
}

TEST(EnrolmentLimits, NewKeysFromOneSourceBeyondTheLimitAreRefused) {
  WorkerRegistry registry(true, {}, {1000, 5});
  const auto now = Clock::now();
  int refused = 0;
  for (const auto& k : keys(300)) {
    if (!registry.enrol(registration(k), common::to_hex(k.public_key), now, "10.0.0.9").ok()) ++refused;
  }
  EXPECT_EQ(registry.size(), 5u);
  EXPECT_EQ(refused, 295);
  const auto other = keys(1, "elsewhere")[0];
  EXPECT_TRUE(registry.enrol(registration(other), "x", now, "10.0.0.10").ok());
}

TEST(EnrolmentLimits, AKnownKeyRegisteringAgainIsNotCounted) {
  WorkerRegistry registry(true, {}, {1000, 1});
  const auto k = keys(1)[0];
  const auto now = Clock::now();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(registry.enrol(registration(k), "conn" + std::to_string(i), now, "s").ok());
}

TEST(EnrolmentLimits, TheTotalLimitHoldsAcrossSources) {
  WorkerRegistry registry(true, {}, {3, 1000});
  const auto now = Clock::now();
  const auto ks = keys(10);
  for (std::size_t i = 0; i < ks.size(); ++i) {
    (void)registry.enrol(registration(ks[i]), "c" + std::to_string(i), now, "s" + std::to_string(i));
  }
  EXPECT_EQ(registry.size(), 3u);
}

TEST(SamplingGate, WithoutARequirementEveryRegisteredKeyIsEligible) {
  SamplingGate gate({}, nullptr);
  std::vector<common::PublicKey> all;
  for (const auto& k : keys(4)) all.push_back(k.public_key);
  EXPECT_EQ(gate.eligible(all), all);
}

TEST(SamplingGate, AKeyNeedsTheMinimumStake) {
  const auto ks = keys(3);
  SamplingGate gate({50, {}, 0.25}, [&](const common::PublicKey& k) -> std::uint64_t {
    return k == ks[1].public_key ? 50 : 49;
  });
  auto eligible = gate.eligible({ks[0].public_key, ks[1].public_key, ks[2].public_key});
  ASSERT_EQ(eligible.size(), 1u);
  EXPECT_EQ(eligible[0], ks[1].public_key);
}

TEST(SamplingGate, ReadsTheApprovalFileAgainWhenItChanges) {
  test::TempDir dir;
  const auto ks = keys(3);
  const auto file = dir / "approved.txt";
  test::write_file(file, "# approved by the researcher\n" + common::to_hex(ks[0].public_key) + "\n");
  SamplingGate gate({0, file, 0.25}, nullptr);
  const std::vector<common::PublicKey> all{ks[0].public_key, ks[1].public_key, ks[2].public_key};
  EXPECT_EQ(gate.eligible(all).size(), 1u);
  test::write_file(file, common::to_hex(ks[0].public_key) + "\n" + common::to_hex(ks[2].public_key) + "  # ok\n");
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + 2s);
  EXPECT_EQ(gate.eligible(all).size(), 2u);
}

TEST(SamplingGate, AnUnreadableApprovalFileKeepsTheLastList) {
  test::TempDir dir;
  const auto ks = keys(2);
  const auto file = dir / "approved.txt";
  test::write_file(file, common::to_hex(ks[0].public_key) + "\n");
  SamplingGate gate({0, file, 0.25}, nullptr);
  const std::vector<common::PublicKey> all{ks[0].public_key, ks[1].public_key};
  EXPECT_EQ(gate.eligible(all).size(), 1u);
  test::write_file(file, "not a key\n");
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + 2s);
  EXPECT_EQ(gate.eligible(all).size(), 1u);
}

TEST(ApprovalFile, NamesTheLineThatIsNotAKey) {
  test::TempDir dir;
  test::write_file(dir / "a.txt", "\n# comment\nzz\n");
  auto r = read_approval_file(dir / "a.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("a.txt:3"), std::string::npos);
}

TEST(SamplePreferringHistory, NewcomersTakeAtMostTheirShareWhileAnyKeyHasHistory) {
  std::vector<common::PublicKey> all;
  std::set<common::PublicKey> veterans;
  const auto ks = keys(104);
  for (int i = 0; i < 104; ++i) {
    all.push_back(ks[i].public_key);
    if (i < 4) veterans.insert(ks[i].public_key);
  }
  std::set<common::PublicKey> newcomers;
  auto sample = sample_preferring_history(
      all, [&](const common::PublicKey& k) { return veterans.count(k) > 0; }, {0.1, 1}, 0.25, 7, 2, newcomers);
  // want = ceil(0.1 * 104) = 11: 3 places for newcomers, the 4 veterans, and no more.
  EXPECT_EQ(newcomers.size(), 3u);
  EXPECT_EQ(sample.size(), 7u);
  for (const auto& v : veterans) EXPECT_TRUE(std::binary_search(sample.begin(), sample.end(), v));
}

TEST(SamplePreferringHistory, WithNoHistoryYetSamplesAsUsual) {
  std::vector<common::PublicKey> all;
  for (const auto& k : keys(10)) all.push_back(k.public_key);
  std::set<common::PublicKey> newcomers;
  auto sample = sample_preferring_history(all, [](const common::PublicKey&) { return false; }, {0.5, 1}, 0.25, 7, 1,
                                          newcomers);
  EXPECT_EQ(sample, sample_workers(all, {0.5, 1}, 7, 1));
  EXPECT_EQ(newcomers.size(), 5u);
}

}  // namespace
}  // namespace fl::coordinator
