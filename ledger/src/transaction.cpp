#include "fl/ledger/transaction.hpp"

#include <bit>
#include <chrono>
#include <cstring>

#include "fl/common/registration.hpp"

namespace fl::ledger {
namespace {

constexpr std::uint8_t kMagic[4] = {'F', 'L', 'T', 'X'};
constexpr std::uint8_t kVersion = 1;
// Version 2 differs only in round-result bodies, which then carry the scorer's name after the
// rule. A round result without a scorer is written as version 1, so bodies written before the
// scorer existed decode and re-encode to the same bytes (and keep their signatures).
constexpr std::uint8_t kVersionWithScorer = 2;
// Version 3: an open-job with a privacy budget, a round result with its DP parameters (and its
// scorer, possibly empty). Written only with DP on, so other ledgers keep their bytes.
constexpr std::uint8_t kVersionWithPrivacy = 3;

std::uint8_t version_of(const TxBody& body) {
  if (const auto* job = std::get_if<OpenJobBody>(&body)) {
    return job->privacy_budget ? kVersionWithPrivacy : kVersion;
  }
  const auto* round = std::get_if<RoundResultBody>(&body);
  if (round && round->privacy) return kVersionWithPrivacy;
  return round && !round->scorer.empty() ? kVersionWithScorer : kVersion;
}

class ByteWriter {
 public:
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }  // hosts are little-endian (crypto.cpp)
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void text(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  template <std::size_t N>
  void fixed(const std::array<std::uint8_t, N>& a) {
    raw(a.data(), N);
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  std::vector<std::uint8_t> out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::uint8_t> in) : in_(in) {}
  bool raw(void* p, std::size_t n, const char* what) {
    if (in_.size() - pos_ < n) return fail(what);
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool u8(std::uint8_t& v, const char* what) { return raw(&v, 1, what); }
  bool u64(std::uint64_t& v, const char* what) { return raw(&v, sizeof v, what); }
  bool f64(double& v, const char* what) {
    std::uint64_t bits = 0;
    if (!u64(bits, what)) return false;
    v = std::bit_cast<double>(bits);
    return true;
  }
  bool text(std::string& s, const char* what) {
    std::uint64_t n = 0;
    if (!u64(n, what)) return false;
    if (n > in_.size() - pos_) return fail(what);
    s.assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  template <std::size_t N>
  bool fixed(std::array<std::uint8_t, N>& a, const char* what) {
    return raw(a.data(), N, what);
  }
  // A list count, bounded by the bytes left so a corrupt count cannot allocate gigabytes.
  bool count(std::uint64_t& n, std::size_t min_entry_bytes, const char* what) {
    if (!u64(n, what)) return false;
    if (n > (in_.size() - pos_) / min_entry_bytes) return fail(what);
    return true;
  }
  bool done() const { return pos_ == in_.size(); }
  std::size_t position() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  bool fail(const char* what) {
    if (error_.empty()) error_ = std::string("truncated at byte ") + std::to_string(pos_) + " reading " + what;
    return false;
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::string error_;
};

void write_body(ByteWriter& w, const TxBody& body) {
  std::visit(
      [&w](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, RegisterBody>) {
          w.text(b.dataset_fingerprint);
        } else if constexpr (std::is_same_v<T, OpenJobBody>) {
          w.text(b.job_id);
          w.text(b.model);
          w.text(b.rule);
          if (b.privacy_budget) {
            w.f64(b.privacy_budget->epsilon);
            w.f64(b.privacy_budget->delta);
          }
          w.u64(b.reward_per_round);
        } else if constexpr (std::is_same_v<T, RoundResultBody>) {
          w.text(b.job_id);
          w.u64(b.round);
          w.fixed(b.model_digest);
          w.text(b.rule);
          if (b.privacy) {
            w.text(b.scorer);
            w.f64(b.privacy->clip_norm);
            w.f64(b.privacy->noise_multiplier);
            w.f64(b.privacy->sample_rate);
            w.f64(b.privacy->epsilon);
          } else if (!b.scorer.empty()) {
            w.text(b.scorer);
          }
          w.u64(b.accepted.size());
          for (const auto& a : b.accepted) {
            w.fixed(a.worker);
            w.fixed(a.update_digest);
            w.f64(a.score);
            w.u64(a.num_samples);
          }
          w.u64(b.rejected.size());
          for (const auto& r : b.rejected) {
            w.fixed(r.worker);
            w.fixed(r.update_digest);
            w.text(r.reason);
          }
        } else if constexpr (std::is_same_v<T, RewardMintBody>) {
          w.text(b.job_id);
          w.u64(b.round);
          w.fixed(b.to);
          w.u64(b.amount);
        } else if constexpr (std::is_same_v<T, TransferBody>) {
          w.fixed(b.to);
          w.u64(b.amount);
        } else if constexpr (std::is_same_v<T, SlashBody>) {
          w.fixed(b.account);
          w.text(b.reason);
          w.u64(b.amount);
        } else {  // StakeBody, UnstakeBody
          w.u64(b.amount);
        }
      },
      body);
}

bool read_body(ByteReader& r, std::uint8_t version, TxType type, TxBody& out) {
  switch (type) {
    case TxType::kRegister: {
      RegisterBody b;
      if (!r.text(b.dataset_fingerprint, "dataset fingerprint")) return false;
      out = std::move(b);
      return true;
    }
    case TxType::kOpenJob: {
      OpenJobBody b;
      if (!r.text(b.job_id, "job id") || !r.text(b.model, "model") || !r.text(b.rule, "rule"))
        return false;
      if (version == kVersionWithPrivacy) {
        auto& budget = b.privacy_budget.emplace();
        if (!r.f64(budget.epsilon, "privacy epsilon") || !r.f64(budget.delta, "privacy delta"))
          return false;
      }
      if (!r.u64(b.reward_per_round, "reward per round")) return false;
      out = std::move(b);
      return true;
    }
    case TxType::kRoundResult: {
      RoundResultBody b;
      std::uint64_t n = 0;
      if (!r.text(b.job_id, "job id") || !r.u64(b.round, "round") || !r.fixed(b.model_digest, "model digest") ||
          !r.text(b.rule, "rule"))
        return false;
      if ((version == kVersionWithScorer || version == kVersionWithPrivacy) &&
          !r.text(b.scorer, "scorer"))
        return false;
      if (version == kVersionWithPrivacy) {
        auto& p = b.privacy.emplace();
        if (!r.f64(p.clip_norm, "clip norm") || !r.f64(p.noise_multiplier, "noise multiplier") ||
            !r.f64(p.sample_rate, "sample rate") || !r.f64(p.epsilon, "cumulative epsilon"))
          return false;
      }
      if (!r.count(n, 80, "accepted count")) return false;
      b.accepted.resize(n);
      for (auto& a : b.accepted) {
        if (!r.fixed(a.worker, "accepted worker") || !r.fixed(a.update_digest, "accepted update digest") ||
            !r.f64(a.score, "score") || !r.u64(a.num_samples, "num samples"))
          return false;
      }
      if (!r.count(n, 72, "rejected count")) return false;
      b.rejected.resize(n);
      for (auto& j : b.rejected) {
        if (!r.fixed(j.worker, "rejected worker") || !r.fixed(j.update_digest, "rejected update digest") ||
            !r.text(j.reason, "rejection reason"))
          return false;
      }
      out = std::move(b);
      return true;
    }
    case TxType::kRewardMint: {
      RewardMintBody b;
      if (!r.text(b.job_id, "job id") || !r.u64(b.round, "round") || !r.fixed(b.to, "recipient") ||
          !r.u64(b.amount, "amount"))
        return false;
      out = std::move(b);
      return true;
    }
    case TxType::kTransfer: {
      TransferBody b;
      if (!r.fixed(b.to, "recipient") || !r.u64(b.amount, "amount")) return false;
      out = b;
      return true;
    }
    case TxType::kStake: {
      StakeBody b;
      if (!r.u64(b.amount, "amount")) return false;
      out = b;
      return true;
    }
    case TxType::kUnstake: {
      UnstakeBody b;
      if (!r.u64(b.amount, "amount")) return false;
      out = b;
      return true;
    }
    case TxType::kSlash: {
      SlashBody b;
      if (!r.fixed(b.account, "slashed account") || !r.text(b.reason, "slash reason") || !r.u64(b.amount, "amount"))
        return false;
      out = std::move(b);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(TxType type) {
  switch (type) {
    case TxType::kRegister: return "register";
    case TxType::kOpenJob: return "open-job";
    case TxType::kRoundResult: return "round-result";
    case TxType::kRewardMint: return "reward-mint";
    case TxType::kTransfer: return "transfer";
    case TxType::kStake: return "stake";
    case TxType::kUnstake: return "unstake";
    case TxType::kSlash: return "slash";
  }
  return "unknown";
}

std::optional<std::uint64_t> Transaction::amount() const {
  return std::visit(
      [](const auto& b) -> std::optional<std::uint64_t> {
        if constexpr (requires { b.amount; }) {
          return b.amount;
        } else {
          return std::nullopt;
        }
      },
      body);
}

std::vector<std::uint8_t> encode(const Transaction& tx) {
  ByteWriter w;
  w.raw(kMagic, sizeof kMagic);
  w.u8(version_of(tx.body));
  w.u8(static_cast<std::uint8_t>(tx.type()));
  w.fixed(tx.issuer);
  w.u64(tx.nonce);
  w.u64(tx.timestamp_ms);
  write_body(w, tx.body);
  return w.take();
}

Result<Transaction> decode(std::span<const std::uint8_t> body, const common::Signature& signature) {
  ByteReader r(body);
  std::uint8_t magic[4] = {};
  std::uint8_t version = 0;
  std::uint8_t type = 0;
  Transaction tx;
  if (!r.raw(magic, 4, "magic") || std::memcmp(magic, kMagic, 4) != 0) {
    return make_error(ErrorCode::kCorrupt, "transaction body does not start with \"FLTX\"");
  }
  if (!r.u8(version, "version") || (version != kVersion && version != kVersionWithScorer &&
                                     version != kVersionWithPrivacy)) {
    return make_error(ErrorCode::kCorrupt, "unsupported transaction version " + std::to_string(version));
  }
  if (!r.u8(type, "type") || type < 1 || type > 8) {
    return make_error(ErrorCode::kCorrupt, "unknown transaction type " + std::to_string(type));
  }
  if (!r.fixed(tx.issuer, "issuer") || !r.u64(tx.nonce, "nonce") || !r.u64(tx.timestamp_ms, "timestamp") ||
      !read_body(r, version, static_cast<TxType>(type), tx.body)) {
    return make_error(ErrorCode::kCorrupt, "transaction body " + r.error());
  }
  if (version != version_of(tx.body)) {  // one encoding per transaction, or its hash would not be unique
    return make_error(ErrorCode::kCorrupt, "transaction version " + std::to_string(version) + " does not fit a " +
                                               std::string(to_string(tx.type())) + " body" +
                                               (tx.type() == TxType::kRoundResult ? " with this scorer and privacy record" : ""));
  }
  if (!r.done()) {
    return make_error(ErrorCode::kCorrupt, "transaction body has " + std::to_string(body.size() - r.position()) +
                                               " trailing bytes after byte " + std::to_string(r.position()));
  }
  tx.signature = signature;
  return tx;
}

common::Digest signing_digest(const Transaction& tx) {
  if (const auto* reg = std::get_if<RegisterBody>(&tx.body)) {
    return common::registration_digest(tx.issuer, reg->dataset_fingerprint, tx.timestamp_ms);
  }
  return common::blake2b_256(encode(tx));
}

common::Digest tx_hash(std::span<const std::uint8_t> body, const common::Signature& signature) {
  return common::Hasher().bytes(body).array(signature).finish();
}

common::Digest tx_hash(const Transaction& tx) { return tx_hash(encode(tx), tx.signature); }

bool signature_valid(const Transaction& tx) { return common::verify(tx.issuer, signing_digest(tx), tx.signature); }

void sign_transaction(Transaction& tx, const common::KeyPair& key) {
  tx.signature = common::sign(key.secret_key, signing_digest(tx));
}

Transaction make_signed(const common::KeyPair& issuer, std::uint64_t nonce, std::uint64_t timestamp_ms,
                        TxBody body) {
  Transaction tx{issuer.public_key, nonce, timestamp_ms, std::move(body), {}};
  sign_transaction(tx, issuer);
  return tx;
}

std::vector<common::PublicKey> accounts_named(const Transaction& tx) {
  std::vector<common::PublicKey> out{tx.issuer};
  std::visit(
      [&out](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, RoundResultBody>) {
          for (const auto& a : b.accepted) out.push_back(a.worker);
          for (const auto& r : b.rejected) out.push_back(r.worker);
        } else if constexpr (std::is_same_v<T, RewardMintBody> || std::is_same_v<T, TransferBody>) {
          out.push_back(b.to);
        } else if constexpr (std::is_same_v<T, SlashBody>) {
          out.push_back(b.account);
        }
      },
      tx.body);
  return out;
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

AcceptedEntry accepted_entry(const common::UpdateHeader& header, const common::Digest& update_digest, double score) {
  return AcceptedEntry{header.worker_key, update_digest, score, header.num_samples};
}

}  // namespace fl::ledger
