#include "fl/common/crypto.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace fl::common {

static_assert(sizeof(crypto_generichash_state) <= 384, "Hasher state buffer too small");
static_assert(std::endian::native == std::endian::little, "FedLedger assumes little-endian hosts");

void init_crypto() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

KeySeed SecretKey::seed() const {
  KeySeed seed{};
  crypto_sign_ed25519_sk_to_seed(seed.data(), bytes_.data());
  return seed;
}

KeyPair generate_key_pair() {
  init_crypto();
  KeySeed seed{};
  randombytes_buf(seed.data(), seed.size());
  KeyPair pair = key_pair_from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

void random_bytes(std::span<std::uint8_t> out) {
  init_crypto();
  randombytes_buf(out.data(), out.size());
}

KeyPair key_pair_from_seed(const KeySeed& seed) {
  init_crypto();
  KeyPair pair;
  std::array<std::uint8_t, 64> sk{};
  crypto_sign_seed_keypair(pair.public_key.data(), sk.data(), seed.data());
  pair.secret_key = SecretKey(sk);
  sodium_memzero(sk.data(), sk.size());
  return pair;
}

KeyPair key_pair_from_label(std::string_view label) {
  return key_pair_from_seed(Hasher().text("fl-test-key").text(label).finish());
}

Signature sign(const SecretKey& key, std::span<const std::uint8_t> message) {
  init_crypto();
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), key.bytes().data());
  return sig;
}

Signature sign(const SecretKey& key, const Digest& digest) {
  return sign(key, std::span<const std::uint8_t>(digest.data(), digest.size()));
}

bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig) {
  init_crypto();
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

bool verify(const PublicKey& key, const Digest& digest, const Signature& sig) {
  return verify(key, std::span<const std::uint8_t>(digest.data(), digest.size()), sig);
}

Digest blake2b_256(std::span<const std::uint8_t> bytes) {
  init_crypto();
  Digest d{};
  crypto_generichash(d.data(), d.size(), bytes.data(), bytes.size(), nullptr, 0);
  return d;
}

Digest blake2b_256(std::string_view bytes) {
  return blake2b_256(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

namespace {
crypto_generichash_state* as_state(std::array<std::uint8_t, 384>& buf) {
  return reinterpret_cast<crypto_generichash_state*>(buf.data());
}
}  // namespace

Hasher::Hasher() {
  init_crypto();
  crypto_generichash_init(as_state(state_), nullptr, 0, 32);
}

Hasher& Hasher::raw(const void* data, std::size_t size) {
  crypto_generichash_update(as_state(state_), static_cast<const unsigned char*>(data), size);
  return *this;
}
Hasher& Hasher::bytes(std::span<const std::uint8_t> data) { return raw(data.data(), data.size()); }
Hasher& Hasher::text(std::string_view s) {
  u64(s.size());
  return raw(s.data(), s.size());
}
Hasher& Hasher::u8(std::uint8_t v) { return raw(&v, 1); }
Hasher& Hasher::u32(std::uint32_t v) { return raw(&v, sizeof v); }
Hasher& Hasher::u64(std::uint64_t v) { return raw(&v, sizeof v); }
Hasher& Hasher::i64(std::int64_t v) { return raw(&v, sizeof v); }
Hasher& Hasher::f64(double v) { return raw(&v, sizeof v); }

Digest Hasher::finish() {
  Digest d{};
  crypto_generichash_final(as_state(state_), d.data(), d.size());
  return d;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xF];
  }
  return out;
}

Result<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) {
    return make_error(ErrorCode::kInvalidArgument, "hex string has odd length " + std::to_string(hex.size()));
  }
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "not a hex digit at position " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_from_hex(std::string_view hex, std::string_view what) {
  if (hex.size() != 2 * N) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(what) + ": expected " + std::to_string(2 * N) +
                          " hex digits, got " + std::to_string(hex.size()));
  }
  auto bytes = from_hex(hex);
  if (!bytes.ok()) return with_context(bytes.error(), what);
  std::array<std::uint8_t, N> out{};
  std::memcpy(out.data(), bytes->data(), N);
  return out;
}
template Result<std::array<std::uint8_t, 32>> fixed_from_hex<32>(std::string_view, std::string_view);
template Result<std::array<std::uint8_t, 64>> fixed_from_hex<64>(std::string_view, std::string_view);

Result<PublicKey> public_key_from_hex(std::string_view hex) {
  return fixed_from_hex<32>(hex, "public key");
}
Result<Digest> digest_from_hex(std::string_view hex) { return fixed_from_hex<32>(hex, "digest"); }

namespace {
constexpr std::string_view kKeyMagic = "fedledger-ed25519-v1";

Status write_private_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return make_error(ErrorCode::kIo, "cannot write key file " + tmp);
    ::chmod(tmp.c_str(), mode);
    out << text;
    if (!out.flush()) return make_error(ErrorCode::kIo, "cannot write key file " + tmp);
  }
  ::chmod(tmp.c_str(), mode);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot rename " + tmp + ": " + ec.message());
  return ok_status();
}

struct KeyFileFields {
  std::string public_hex;
  std::string seed_hex;
};

Result<KeyFileFields> read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, "key file " + path.string() + " cannot be opened");
  std::string line;
  if (!std::getline(in, line) || line != kKeyMagic) {
    return make_error(ErrorCode::kCorrupt, "key file " + path.string() + ": first line is not '" +
                                               std::string(kKeyMagic) + "'");
  }
  KeyFileFields fields;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream words(line);
    std::string name, value, extra;
    words >> name >> value >> extra;
    if (value.empty() || !extra.empty()) {
      return make_error(ErrorCode::kCorrupt, "key file " + path.string() + " line " +
                                                 std::to_string(line_no) + ": expected '<field> <hex>'");
    }
    if (name == "public") fields.public_hex = value;
    else if (name == "seed") fields.seed_hex = value;
    else
      return make_error(ErrorCode::kCorrupt, "key file " + path.string() + " line " +
                                                 std::to_string(line_no) + ": unknown field '" + name + "'");
  }
  if (fields.public_hex.empty()) {
    return make_error(ErrorCode::kCorrupt, "key file " + path.string() + " has no 'public' line");
  }
  return fields;
}
}  // namespace

Status save_key_file(const std::filesystem::path& path, const KeyPair& key) {
  auto seed = key.secret_key.seed();
  std::string text = std::string(kKeyMagic) + "\npublic " + to_hex(key.public_key) + "\nseed " +
                     to_hex(seed) + "\n";
  sodium_memzero(seed.data(), seed.size());
  Status s = write_private_file(path, text, 0600);
  sodium_memzero(text.data(), text.size());
  return s;
}

Status save_public_key_file(const std::filesystem::path& path, const PublicKey& key) {
  return write_private_file(path, std::string(kKeyMagic) + "\npublic " + to_hex(key) + "\n", 0644);
}

Result<KeyPair> load_key_file(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto fields, read_key_file(path));
  if (fields.seed_hex.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "key file " + path.string() + " holds only a public key (no 'seed' line)");
  }
  auto seed = fixed_from_hex<32>(fields.seed_hex, "key file " + path.string() + " seed");
  if (!seed.ok()) return make_error(ErrorCode::kCorrupt, seed.error().message);
  auto pub = fixed_from_hex<32>(fields.public_hex, "key file " + path.string() + " public key");
  if (!pub.ok()) return make_error(ErrorCode::kCorrupt, pub.error().message);
  KeyPair pair = key_pair_from_seed(*seed);
  if (pair.public_key != *pub) {
    return make_error(ErrorCode::kCorrupt,
                      "key file " + path.string() + ": public key does not match the seed");
  }
  return pair;
}

Result<PublicKey> load_public_key_file(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto fields, read_key_file(path));
  auto pub = fixed_from_hex<32>(fields.public_hex, "key file " + path.string() + " public key");
  if (!pub.ok()) return make_error(ErrorCode::kCorrupt, pub.error().message);
  return *pub;
}

Result<PublicKey> public_key_from_text(std::string_view text, const std::filesystem::path& base_dir) {
  if (text.size() == 64 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
    return public_key_from_hex(text);
  }
  const std::filesystem::path path(text);
  return load_public_key_file(path.is_absolute() || base_dir.empty() ? path : base_dir / path);
}

CurveKeyPair::~CurveKeyPair() { sodium_memzero(secret_key.data(), secret_key.size()); }

Result<CurvePublicKey> curve_public_key(const PublicKey& key) {
  init_crypto();
  CurvePublicKey out{};
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), key.data()) != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "key " + short_id(key) + " is not a valid Ed25519 public key");
  }
  return out;
}

CurveKeyPair curve_key_pair(const KeyPair& key) {
  init_crypto();
  CurveKeyPair out;
  // A key pair made by libsodium always converts; a failure here is a programmer error.
  if (crypto_sign_ed25519_pk_to_curve25519(out.public_key.data(), key.public_key.data()) != 0 ||
      crypto_sign_ed25519_sk_to_curve25519(out.secret_key.data(), key.secret_key.bytes().data()) != 0) {
    throw std::logic_error("Ed25519 key pair does not convert to X25519");
  }
  return out;
}

bool equal_bytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string short_id(const PublicKey& key) { return to_hex(key).substr(0, 8); }

}  // namespace fl::common
