// Keys, signatures and digests for FedLedger (libsodium): Ed25519 identities for workers,
// researchers and the coordinator, BLAKE2b-256 digests for updates, models and ledger records.
// Key files hold the 32-byte seed in hex and are written with 0600 permissions.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::common {

using Digest = std::array<std::uint8_t, 32>;     // BLAKE2b-256
using PublicKey = std::array<std::uint8_t, 32>;  // Ed25519
using Signature = std::array<std::uint8_t, 64>;  // Ed25519 (detached)
using KeySeed = std::array<std::uint8_t, 32>;

// The secret half of an Ed25519 key (libsodium's 64-byte form: seed || public key).
// Wiped from memory when destroyed.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(const std::array<std::uint8_t, 64>& bytes) : bytes_(bytes) {}
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  const std::array<std::uint8_t, 64>& bytes() const { return bytes_; }
  KeySeed seed() const;

 private:
  std::array<std::uint8_t, 64> bytes_{};
};

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key;
};

// Initialises libsodium once; every function below calls it, so callers need not.
void init_crypto();

KeyPair generate_key_pair();
// Fills `out` from the system's cryptographic random source.
void random_bytes(std::span<std::uint8_t> out);
KeyPair key_pair_from_seed(const KeySeed& seed);
// Deterministic key for tests and simulations: seed = BLAKE2b("fl-test-key" || label).
KeyPair key_pair_from_label(std::string_view label);

Signature sign(const SecretKey& key, std::span<const std::uint8_t> message);
Signature sign(const SecretKey& key, const Digest& digest);
bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig);
bool verify(const PublicKey& key, const Digest& digest, const Signature& sig);

Digest blake2b_256(std::span<const std::uint8_t> bytes);
Digest blake2b_256(std::string_view bytes);

// Incremental BLAKE2b-256. Integers are absorbed little-endian with fixed width, strings with
// a u64 length prefix, so distinct field sequences never hash alike.
class Hasher {
 public:
  Hasher();
  Hasher& bytes(std::span<const std::uint8_t> data);
  Hasher& raw(const void* data, std::size_t size);
  Hasher& text(std::string_view s);  // length-prefixed
  Hasher& u8(std::uint8_t v);
  Hasher& u32(std::uint32_t v);
  Hasher& u64(std::uint64_t v);
  Hasher& i64(std::int64_t v);
  Hasher& f64(double v);
  template <std::size_t N>
  Hasher& array(const std::array<std::uint8_t, N>& a) {
    return raw(a.data(), N);
  }
  Digest finish();

 private:
  alignas(64) std::array<std::uint8_t, 384> state_{};  // crypto_generichash_state
};

std::string to_hex(std::span<const std::uint8_t> bytes);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) {
  return to_hex(std::span<const std::uint8_t>(a.data(), N));
}
Result<std::vector<std::uint8_t>> from_hex(std::string_view hex);
// Parses exactly N bytes of hex; the error names `what` (e.g. "worker public key").
template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_from_hex(std::string_view hex, std::string_view what);

Result<PublicKey> public_key_from_hex(std::string_view hex);
Result<Digest> digest_from_hex(std::string_view hex);

// Key files: "fedledger-ed25519-v1\npublic <hex>\nseed <hex>\n", mode 0600.
// A public-key file (for allow-lists) is the same without the seed line.
Status save_key_file(const std::filesystem::path& path, const KeyPair& key);
Result<KeyPair> load_key_file(const std::filesystem::path& path);
Status save_public_key_file(const std::filesystem::path& path, const PublicKey& key);
// Reads either a key file or a public-key file and returns its public key.
Result<PublicKey> load_public_key_file(const std::filesystem::path& path);
// A public key given as text: 64 hex digits, or else the path of a key or public-key file
// (relative to `base_dir` when relative).
Result<PublicKey> public_key_from_text(std::string_view text, const std::filesystem::path& base_dir = {});

// CurveZMQ keys from an Ed25519 identity (libsodium's Ed25519 -> X25519 map), so each party
// has one identity: the key that signs its messages also authenticates its connections.
using CurvePublicKey = std::array<std::uint8_t, 32>;  // X25519
struct CurveKeyPair {
  CurvePublicKey public_key{};
  std::array<std::uint8_t, 32> secret_key{};
  ~CurveKeyPair();
};
// kInvalidArgument for a 32-byte value that is not a valid Ed25519 public key.
Result<CurvePublicKey> curve_public_key(const PublicKey& key);
CurveKeyPair curve_key_pair(const KeyPair& key);

// Constant-time comparison of equal-sized byte arrays.
bool equal_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// A short printable name for a key: the first 8 hex digits.
std::string short_id(const PublicKey& key);

}  // namespace fl::common
