#include <gtest/gtest.h>
#include <sys/stat.h>

#include "fl/common/crypto.hpp"
#include "support/builders.hpp"

namespace fl::common {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Crypto, SignatureVerifiesWithTheSignersKey) {
  KeyPair key = generate_key_pair();
  const std::string msg = "round 3 update";
  Signature sig = sign(key.secret_key, bytes_of(msg));
  EXPECT_TRUE(verify(key.public_key, bytes_of(msg), sig));
}

TEST(Crypto, SignatureFailsWithAnotherKey) {
  KeyPair a = key_pair_from_label("a"), b = key_pair_from_label("b");
  const std::string msg = "hello";
  EXPECT_FALSE(verify(b.public_key, bytes_of(msg), sign(a.secret_key, bytes_of(msg))));
}

TEST(Crypto, SignatureFailsWhenOneBitOfTheMessageFlips) {
  KeyPair key = key_pair_from_label("k");
  std::string msg = "payload bytes";
  Signature sig = sign(key.secret_key, bytes_of(msg));
  msg[3] ^= 0x01;
  EXPECT_FALSE(verify(key.public_key, bytes_of(msg), sig));
}

TEST(Crypto, LabelledKeysAreDeterministic) {
  EXPECT_EQ(key_pair_from_label("w1").public_key, key_pair_from_label("w1").public_key);
  EXPECT_NE(key_pair_from_label("w1").public_key, key_pair_from_label("w2").public_key);
}

TEST(Crypto, HasherSeparatesFieldBoundaries) {
  EXPECT_NE(Hasher().text("ab").text("c").finish(), Hasher().text("a").text("bc").finish());
}

TEST(Crypto, HexRoundTripsAndRejectsBadDigits) {
  Digest d = blake2b_256(std::string_view("x"));
  auto back = digest_from_hex(to_hex(d));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
  EXPECT_FALSE(from_hex("abc").ok());
  auto bad = from_hex("zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("not a hex digit"), std::string::npos);
  EXPECT_FALSE(public_key_from_hex("abcd").ok());
}

TEST(Crypto, KeyFileRoundTripsWithOwnerOnlyPermissions) {
  test::TempDir dir;
  KeyPair key = generate_key_pair();
  ASSERT_TRUE(save_key_file(dir / "w.key", key).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "w.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = load_key_file(dir / "w.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_key, key.public_key);
  EXPECT_EQ(loaded->secret_key.bytes(), key.secret_key.bytes());
}

TEST(Crypto, MissingKeyFileIsAClearError) {
  auto r = load_key_file("/nonexistent/dir/w.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("/nonexistent/dir/w.key"), std::string::npos);
}

TEST(Crypto, MalformedKeyFileIsRejectedWithTheReason) {
  test::TempDir dir;
  test::write_file(dir / "bad1.key", "not a key\n");
  auto r1 = load_key_file(dir / "bad1.key");
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, ErrorCode::kCorrupt);

  KeyPair key = key_pair_from_label("x");
  test::write_file(dir / "bad2.key", "fedledger-ed25519-v1\npublic " + to_hex(key.public_key) + "\nseed 1234\n");
  auto r2 = load_key_file(dir / "bad2.key");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("seed"), std::string::npos);

  KeyPair other = key_pair_from_label("y");
  test::write_file(dir / "bad3.key", "fedledger-ed25519-v1\npublic " + to_hex(other.public_key) +
                                         "\nseed " + to_hex(key.secret_key.seed()) + "\n");
  auto r3 = load_key_file(dir / "bad3.key");
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("does not match"), std::string::npos);
}

TEST(Crypto, PublicKeyFileCarriesNoSecret) {
  test::TempDir dir;
  KeyPair key = key_pair_from_label("pub");
  ASSERT_TRUE(save_public_key_file(dir / "w.pub", key.public_key).ok());
  auto pub = load_public_key_file(dir / "w.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(*pub, key.public_key);
  EXPECT_FALSE(load_key_file(dir / "w.pub").ok());
}

}  // namespace
}  // namespace fl::common
