#include <gtest/gtest.h>

#include "fl/coordinator/worker_registry.hpp"

namespace fl::coordinator {
namespace {

common::RegisterRequest request(const common::KeyPair& key) {
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.timestamp_ms = 5;
  common::sign_registration(r, key.secret_key);
  return r;
}

TEST(WorkerRegistry, AllowListAdmitsOnlyListedKeys) {
  auto a = common::key_pair_from_label("a"), b = common::key_pair_from_label("b");
  WorkerRegistry reg(false, {a.public_key});
  EXPECT_TRUE(reg.enrol(request(a), "id-a", Clock::now()).ok());
  auto s = reg.enrol(request(b), "id-b", Clock::now());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("allow-list"), std::string::npos);
  EXPECT_EQ(reg.size(), 1u);
}

TEST(WorkerRegistry, RegistrationWithoutProofOfKeyIsRefused) {
  auto a = common::key_pair_from_label("a");
  auto r = request(a);
  r.worker_key = common::key_pair_from_label("victim").public_key;
  WorkerRegistry reg(true, {});
  auto s = reg.enrol(r, "id", Clock::now());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kBadSignature);
}

TEST(WorkerRegistry, RestartedWorkerKeepsItsKeyUnderANewIdentity) {
  auto a = common::key_pair_from_label("a");
  WorkerRegistry reg(true, {});
  ASSERT_TRUE(reg.enrol(request(a), "old", Clock::now()).ok());
  ASSERT_TRUE(reg.enrol(request(a), "new", Clock::now()).ok());
  EXPECT_EQ(reg.size(), 1u);
  EXPECT_FALSE(reg.touch("old", Clock::now()));
  EXPECT_TRUE(reg.touch("new", Clock::now()));
}

TEST(WorkerRegistry, SilentWorkersExpire) {
  auto a = common::key_pair_from_label("a"), b = common::key_pair_from_label("b");
  WorkerRegistry reg(true, {});
  const auto t0 = Clock::now();
  ASSERT_TRUE(reg.enrol(request(a), "a", t0).ok());
  ASSERT_TRUE(reg.enrol(request(b), "b", t0).ok());
  reg.touch("b", t0 + std::chrono::seconds(10));
  reg.expire(t0 + std::chrono::seconds(12), std::chrono::seconds(5));
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_NE(reg.find(b.public_key), nullptr);
}

}  // namespace
}  // namespace fl::coordinator
