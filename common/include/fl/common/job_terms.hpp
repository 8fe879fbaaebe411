// A job's terms: what the researcher promises device owners, written once when the job opens and
// kept on the ledger with it (the open-job transaction). Purpose, model and the digest of its
// initial parameters, the data expected from workers, rounds, reward per round or bounty, the
// differential-privacy target, how long accepted updates are kept and who may read them, and the
// coordinators allowed to run the job. The researcher signs terms_digest(); a worker that
// accepts them signs consent_digest() at registration, and the ledger refuses a round that
// pays a worker without that consent or that runs under other terms.
//
// The canonical form is compact JSON with sorted keys (terms_text()); parse_terms() accepts
// only that form, so one set of terms has exactly one digest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

inline constexpr std::size_t kMaxTermsBytes = 16 * 1024;  // canonical text, on the wire and ledger

struct TermsPrivacy {
  double epsilon = 0;  // > 0, finite
  double delta = 0;    // in (0, 1)
  bool operator==(const TermsPrivacy&) const = default;
};

struct JobTerms {
  std::string job_id;
  PublicKey researcher{};
  std::string purpose;          // free text, at most 2,000 bytes
  std::string model;            // model spec kind and name: "mlp", "cnn", "torchscript:net.pt"
  Digest model_digest{};        // digest_of(the initial global parameters)
  std::string data;             // the data the job expects from workers, e.g. "28x28x1, 10 classes"
  std::uint64_t rounds = 0;
  std::uint64_t reward_per_round = 0;
  std::uint64_t bounty = 0;     // 0: rewards are minted, not paid from an escrow
  std::optional<TermsPrivacy> privacy{};  // none: the job makes no DP promise
  std::uint64_t retention_days = 0;       // accepted updates are kept this long (0: not kept)
  std::vector<std::string> readers;       // who may read kept updates ("coordinators", ...)
  std::vector<PublicKey> coordinators;    // the keys allowed to run the job (at least one)
  bool operator==(const JobTerms&) const = default;
};

// The model kind a policy names: "torchscript" for "torchscript:net.pt", else the spec itself.
std::string model_kind(std::string_view model);

// Why these terms cannot be offered (empty fields, a bad DP target, no coordinator, too large),
// or nullopt when they can.
std::optional<std::string> terms_problem(const JobTerms& terms);

std::string terms_text(const JobTerms& terms);  // canonical JSON
// Accepts only canonical text (what terms_text() writes for valid terms); errors name the field.
Result<JobTerms> parse_terms(std::string_view text);
// BLAKE2b-256("fl-terms-v1" || terms_text(terms)).
Digest terms_digest(const JobTerms& terms);
// The same digest of terms already in canonical text (as offered in a challenge).
Digest terms_text_digest(std::string_view canonical_text);
// A human-readable listing, one "name: value" line per term (fl-worker check, fl-ledger show).
std::string describe_terms(const JobTerms& terms);

// What a worker signs to consent to a job's terms at registration; the coordinator checks it
// before enrolling the worker and the ledger's rules when they replay the consent transaction.
Digest consent_digest(const PublicKey& worker, std::string_view job_id, const Digest& terms,
                      std::uint64_t timestamp_ms);

}  // namespace fl::common
