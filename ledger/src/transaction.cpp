#include "fl/ledger/transaction.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>

#include "fl/common/job_terms.hpp"
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
// Version 4: tagged extensions before the version-1 body (the header comment lists the tags).
constexpr std::uint8_t kVersionWithExtensions = 4;
enum Tag : std::uint8_t {
  kTagScorer = 1,
  kTagPrivacy = 2,
  kTagValidation = 3,
  kTagEvidence = 4,
  kTagReasons = 5,
  kTagTerms = 6,
  kTagTermsDigest = 7,
};

bool any_reason(const std::vector<std::string>& reasons) {
  return std::any_of(reasons.begin(), reasons.end(), [](const std::string& r) { return !r.empty(); });
}

std::uint8_t version_of(const TxBody& body) {
  if (const auto* job = std::get_if<OpenJobBody>(&body)) {
    if (job->terms) return kVersionWithExtensions;
    return job->privacy_budget ? kVersionWithPrivacy : kVersion;
  }
  if (const auto* slash = std::get_if<SlashBody>(&body)) {
    return slash->evidence ? kVersionWithExtensions : kVersion;
  }
  const auto* round = std::get_if<RoundResultBody>(&body);
  if (round && (round->validation || any_reason(round->score_reasons) || round->terms_digest)) {
    return kVersionWithExtensions;
  }
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

void write_claim(ByteWriter& w, const common::UpdateClaim& c) {
  w.u64(c.version);
  w.text(c.job_id);
  w.u64(c.round);
  w.fixed(c.worker);
  w.fixed(c.header_digest);
  w.fixed(c.payload_digest);
  w.fixed(c.signature);
}

void write_privacy(ByteWriter& w, const RoundPrivacy& p) {
  w.f64(p.clip_norm);
  w.f64(p.noise_multiplier);
  w.f64(p.sample_rate);
  w.f64(p.epsilon);
}

// Version 4's extension list: the fields versions 1 to 3 have no room for.
void write_extensions(ByteWriter& w, const TxBody& body) {
  std::vector<std::pair<Tag, ByteWriter>> ext;
  auto add = [&ext](Tag tag) -> ByteWriter& { return ext.emplace_back(tag, ByteWriter{}).second; };
  if (const auto* job = std::get_if<OpenJobBody>(&body); job && job->privacy_budget) {
    auto& e = add(kTagPrivacy);
    e.f64(job->privacy_budget->epsilon);
    e.f64(job->privacy_budget->delta);
  }
  if (const auto* job = std::get_if<OpenJobBody>(&body); job && job->terms) {
    const auto text = common::terms_text(*job->terms);
    add(kTagTerms).raw(text.data(), text.size());
  }
  if (const auto* round = std::get_if<RoundResultBody>(&body)) {
    if (!round->scorer.empty()) add(kTagScorer).raw(round->scorer.data(), round->scorer.size());
    if (round->privacy) write_privacy(add(kTagPrivacy), *round->privacy);
    if (round->validation) {
      auto& e = add(kTagValidation);
      e.f64(round->validation->loss_before);
      e.f64(round->validation->loss_after);
    }
    if (any_reason(round->score_reasons)) {
      auto& e = add(kTagReasons);
      e.u64(round->score_reasons.size());
      for (const auto& r : round->score_reasons) e.text(r);
    }
    if (round->terms_digest) add(kTagTermsDigest).fixed(*round->terms_digest);
  }
  if (const auto* slash = std::get_if<SlashBody>(&body); slash && slash->evidence) {
    auto& e = add(kTagEvidence);
    write_claim(e, slash->evidence->first);
    write_claim(e, slash->evidence->second);
  }
  w.u8(static_cast<std::uint8_t>(ext.size()));
  for (auto& [tag, payload] : ext) {
    w.u8(tag);
    const auto bytes = payload.take();
    w.u64(bytes.size());
    w.raw(bytes.data(), bytes.size());
  }
}

void write_body(ByteWriter& w, const TxBody& body, std::uint8_t version) {
  const bool v4 = version == kVersionWithExtensions;
  if (v4) write_extensions(w, body);
  std::visit(
      [&w, v4](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, RegisterBody>) {
          w.text(b.dataset_fingerprint);
        } else if constexpr (std::is_same_v<T, OpenJobBody>) {
          w.text(b.job_id);
          w.text(b.model);
          w.text(b.rule);
          if (b.privacy_budget && !v4) {
            w.f64(b.privacy_budget->epsilon);
            w.f64(b.privacy_budget->delta);
          }
          w.u64(b.reward_per_round);
        } else if constexpr (std::is_same_v<T, RoundResultBody>) {
          w.text(b.job_id);
          w.u64(b.round);
          w.fixed(b.model_digest);
          w.text(b.rule);
          if (v4) {
            // scorer and privacy are extensions
          } else if (b.privacy) {
            w.text(b.scorer);
            write_privacy(w, *b.privacy);
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
        } else if constexpr (std::is_same_v<T, RewardMintBody> || std::is_same_v<T, PayoutBody>) {
          w.text(b.job_id);
          w.u64(b.round);
          w.fixed(b.to);
          w.u64(b.amount);
        } else if constexpr (std::is_same_v<T, EscrowBody> || std::is_same_v<T, RefundBody>) {
          w.text(b.job_id);
          w.u64(b.amount);
        } else if constexpr (std::is_same_v<T, TransferBody> || std::is_same_v<T, IssueBody>) {
          w.fixed(b.to);
          w.u64(b.amount);
        } else if constexpr (std::is_same_v<T, SlashBody>) {
          w.fixed(b.account);
          w.text(b.reason);
          w.u64(b.amount);
        } else if constexpr (std::is_same_v<T, ConsentBody>) {
          w.text(b.job_id);
          w.fixed(b.terms_digest);
        } else if constexpr (std::is_same_v<T, ConsortiumBody>) {
          const auto& c = b.consortium;
          w.u64(c.epoch);
          w.u64(c.quorum);
          for (const auto* keys : {&c.members, &c.witnesses, &c.minters}) {
            w.u64(keys->size());
            for (const auto& k : *keys) w.fixed(k);
          }
          w.u64(b.approvals.size());
          for (const auto& a : b.approvals) {
            w.fixed(a.member);
            w.fixed(a.signature);
          }
        } else {  // StakeBody, UnstakeBody
          w.u64(b.amount);
        }
      },
      body);
}

bool read_claim(ByteReader& r, common::UpdateClaim& c) {
  std::uint64_t version = 0;
  if (!r.u64(version, "evidence update version") || !r.text(c.job_id, "evidence job id") ||
      !r.u64(c.round, "evidence round") || !r.fixed(c.worker, "evidence worker") ||
      !r.fixed(c.header_digest, "evidence header digest") ||
      !r.fixed(c.payload_digest, "evidence payload digest") ||
      !r.fixed(c.signature, "evidence signature"))
    return false;
  c.version = static_cast<std::uint32_t>(version);
  return version <= UINT32_MAX;
}

bool read_privacy(ByteReader& r, RoundPrivacy& p) {
  return r.f64(p.clip_norm, "clip norm") && r.f64(p.noise_multiplier, "noise multiplier") &&
         r.f64(p.sample_rate, "sample rate") && r.f64(p.epsilon, "cumulative epsilon");
}

// Version 4's extensions, decoded; each payload must be read to its end.
struct Extensions {
  std::optional<std::string> scorer;
  std::vector<std::uint8_t> privacy;  // raw: its layout depends on the type
  std::optional<RoundValidation> validation;
  std::optional<EquivocationEvidence> evidence;
  std::optional<std::vector<std::string>> reasons;
  std::optional<common::JobTerms> terms;
  std::optional<common::Digest> terms_digest;
};

std::string read_extensions(ByteReader& r, Extensions& ext) {
  std::uint8_t k = 0;
  if (!r.u8(k, "extension count")) return r.error();
  int last = 0;
  for (int i = 0; i < k; ++i) {
    std::uint8_t tag = 0;
    std::string payload;
    if (!r.u8(tag, "extension tag") || !r.text(payload, "extension payload")) return r.error();
    if (tag <= last) return "extension tags out of order (" + std::to_string(tag) + " after " + std::to_string(last) + ")";
    last = tag;
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
    ByteReader e(bytes);
    bool ok = true;
    switch (tag) {
      case kTagScorer:
        ext.scorer = payload;
        e = ByteReader({});
        break;
      case kTagPrivacy:
        ext.privacy.assign(bytes.begin(), bytes.end());
        e = ByteReader({});
        break;
      case kTagValidation: {
        auto& v = ext.validation.emplace();
        ok = e.f64(v.loss_before, "validation loss before") && e.f64(v.loss_after, "validation loss after");
        break;
      }
      case kTagEvidence: {
        auto& v = ext.evidence.emplace();
        ok = read_claim(e, v.first) && read_claim(e, v.second);
        break;
      }
      case kTagReasons: {
        auto& v = ext.reasons.emplace();
        std::uint64_t n = 0;
        ok = e.count(n, 8, "score reason count");
        v.resize(ok ? n : 0);
        for (auto& reason : v) ok = ok && e.text(reason, "score reason");
        break;
      }
      case kTagTerms: {
        auto terms = common::parse_terms(payload);
        if (!terms.ok()) return "extension 6 (terms): " + terms.error().message;
        ext.terms = std::move(terms).value();
        e = ByteReader({});
        break;
      }
      case kTagTermsDigest:
        ok = e.fixed(ext.terms_digest.emplace(), "terms digest");
        break;
      default:
        return "unknown extension tag " + std::to_string(tag) + " (written by a newer FedLedger?)";
    }
    if (!ok) return "extension " + std::to_string(tag) + " " + (e.error().empty() ? "holds an out-of-range value" : e.error());
    if (!e.done()) return "extension " + std::to_string(tag) + " has trailing bytes";
  }
  return "";
}

// Moves the extensions into the version-1 body just read; an extension the type cannot hold
// is an error.
std::string merge_extensions(Extensions& ext, TxBody& body) {
  auto* job = std::get_if<OpenJobBody>(&body);
  auto* round = std::get_if<RoundResultBody>(&body);
  auto* slash = std::get_if<SlashBody>(&body);
  const std::string type(to_string(static_cast<TxType>(body.index() + 1)));
  if (ext.scorer) {
    if (!round || ext.scorer->empty()) return "a scorer extension on a " + type + " (or an empty one)";
    round->scorer = std::move(*ext.scorer);
  }
  if (!ext.privacy.empty()) {
    ByteReader e(ext.privacy);
    bool ok = false;
    if (job) {
      auto& budget = job->privacy_budget.emplace();
      ok = e.f64(budget.epsilon, "privacy epsilon") && e.f64(budget.delta, "privacy delta");
    } else if (round) {
      ok = read_privacy(e, round->privacy.emplace());
    } else {
      return "a privacy extension on a " + type;
    }
    if (!ok || !e.done()) return "privacy extension of the wrong size";
  }
  if (ext.validation) {
    if (!round) return "a validation extension on a " + type;
    round->validation = ext.validation;
  }
  if (ext.reasons) {
    if (!round || ext.reasons->size() != round->accepted.size() || !any_reason(*ext.reasons)) {
      return "score reasons that do not match the accepted entries (or none at all)";
    }
    round->score_reasons = std::move(*ext.reasons);
  }
  if (ext.terms) {
    if (!job) return "a terms extension on a " + type;
    job->terms = std::move(ext.terms);
  }
  if (ext.terms_digest) {
    if (!round) return "a terms-digest extension on a " + type;
    round->terms_digest = ext.terms_digest;
  }
  if (ext.evidence) {
    if (!slash) return "an evidence extension on a " + type;
    slash->evidence = std::move(ext.evidence);
  }
  return "";
}

bool read_body(ByteReader& r, std::uint8_t version, TxType type, TxBody& out) {
  if (version == kVersionWithExtensions) version = kVersion;  // extensions are read apart
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
    case TxType::kRewardMint:
    case TxType::kPayout: {
      RewardMintBody b;
      if (!r.text(b.job_id, "job id") || !r.u64(b.round, "round") || !r.fixed(b.to, "recipient") ||
          !r.u64(b.amount, "amount"))
        return false;
      if (type == TxType::kPayout) {
        out = PayoutBody{std::move(b.job_id), b.round, b.to, b.amount};
      } else {
        out = std::move(b);
      }
      return true;
    }
    case TxType::kEscrow:
    case TxType::kRefund: {
      std::string job_id;
      std::uint64_t amount = 0;
      if (!r.text(job_id, "job id") || !r.u64(amount, "amount")) return false;
      if (type == TxType::kEscrow) {
        out = EscrowBody{std::move(job_id), amount};
      } else {
        out = RefundBody{std::move(job_id), amount};
      }
      return true;
    }
    case TxType::kIssue: {
      IssueBody b;
      if (!r.fixed(b.to, "recipient") || !r.u64(b.amount, "amount")) return false;
      out = b;
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
    case TxType::kConsent: {
      ConsentBody b;
      if (!r.text(b.job_id, "job id") || !r.fixed(b.terms_digest, "terms digest")) return false;
      out = std::move(b);
      return true;
    }
    case TxType::kConsortium: {
      ConsortiumBody b;
      auto& c = b.consortium;
      if (!r.u64(c.epoch, "consortium epoch") || !r.u64(c.quorum, "consortium quorum")) return false;
      for (auto* keys : {&c.members, &c.witnesses, &c.minters}) {
        std::uint64_t n = 0;
        if (!r.count(n, 32, "consortium key count")) return false;
        keys->resize(n);
        for (auto& k : *keys) {
          if (!r.fixed(k, "consortium key")) return false;
        }
      }
      std::uint64_t m = 0;
      if (!r.count(m, 96, "approval count")) return false;
      b.approvals.resize(m);
      for (auto& a : b.approvals) {
        if (!r.fixed(a.member, "approving member") || !r.fixed(a.signature, "approval signature")) return false;
      }
      out = std::move(b);
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
    case TxType::kEscrow: return "escrow";
    case TxType::kPayout: return "payout";
    case TxType::kRefund: return "refund";
    case TxType::kIssue: return "issue";
    case TxType::kConsent: return "consent";
    case TxType::kConsortium: return "consortium";
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
  write_body(w, tx.body, version_of(tx.body));
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
  if (!r.u8(version, "version") || version < kVersion || version > kVersionWithExtensions) {
    return make_error(ErrorCode::kCorrupt, "unsupported transaction version " + std::to_string(version));
  }
  if (!r.u8(type, "type") || type < 1 || type > std::variant_size_v<TxBody>) {
    return make_error(ErrorCode::kCorrupt, "unknown transaction type " + std::to_string(type));
  }
  if (!r.fixed(tx.issuer, "issuer") || !r.u64(tx.nonce, "nonce") || !r.u64(tx.timestamp_ms, "timestamp")) {
    return make_error(ErrorCode::kCorrupt, "transaction body " + r.error());
  }
  Extensions ext;
  if (version == kVersionWithExtensions) {
    if (auto problem = read_extensions(r, ext); !problem.empty()) {
      return make_error(ErrorCode::kCorrupt, "transaction body " + problem);
    }
  }
  if (!read_body(r, version, static_cast<TxType>(type), tx.body)) {
    return make_error(ErrorCode::kCorrupt, "transaction body " + r.error());
  }
  if (auto problem = merge_extensions(ext, tx.body); !problem.empty()) {
    return make_error(ErrorCode::kCorrupt, "transaction body has " + problem);
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
  if (encode(tx) != std::vector<std::uint8_t>(body.begin(), body.end())) {
    return make_error(ErrorCode::kCorrupt, "transaction body is not in canonical form (it would re-encode differently)");
  }
  tx.signature = signature;
  return tx;
}

common::Digest signing_digest(const Transaction& tx) {
  if (const auto* reg = std::get_if<RegisterBody>(&tx.body)) {
    return common::registration_digest(tx.issuer, reg->dataset_fingerprint, tx.timestamp_ms);
  }
  if (const auto* consent = std::get_if<ConsentBody>(&tx.body)) {
    return common::consent_digest(tx.issuer, consent->job_id, consent->terms_digest, tx.timestamp_ms);
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
        } else if constexpr (std::is_same_v<T, RewardMintBody> || std::is_same_v<T, TransferBody> ||
                             std::is_same_v<T, PayoutBody> || std::is_same_v<T, IssueBody>) {
          out.push_back(b.to);
        } else if constexpr (std::is_same_v<T, SlashBody>) {
          out.push_back(b.account);
        } else if constexpr (std::is_same_v<T, ConsortiumBody>) {
          for (const auto* keys : {&b.consortium.members, &b.consortium.witnesses, &b.consortium.minters}) {
            for (const auto& k : *keys) {
              if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
            }
          }
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

std::optional<std::string> evidence_problem(const EquivocationEvidence& evidence,
                                            const common::PublicKey& account) {
  const auto& [a, b] = std::tie(evidence.first, evidence.second);
  if (a.worker != account || b.worker != account) {
    return "the evidence's updates are signed by " + common::short_id(a.worker) + " and " +
           common::short_id(b.worker) + ", not by the slashed " + common::short_id(account);
  }
  if (a.job_id != b.job_id || a.round != b.round) {
    return "the evidence's updates are for job '" + a.job_id + "' round " + std::to_string(a.round) +
           " and job '" + b.job_id + "' round " + std::to_string(b.round) + ", not one round";
  }
  if (claim_signing_digest(a) == claim_signing_digest(b)) return "the evidence's two updates are the same update";
  if (!claim_signature_valid(a)) return "the evidence's first update signature does not verify";
  if (!claim_signature_valid(b)) return "the evidence's second update signature does not verify";
  return std::nullopt;
}

AcceptedEntry accepted_entry(const common::UpdateHeader& header, const common::Digest& update_digest, double score) {
  return AcceptedEntry{header.worker_key, update_digest, score, header.num_samples};
}

}  // namespace fl::ledger
