// The decisions of one round while it collects: which updates are accepted, which rejected
// and why, resends, equivocation (two different signed updates from one key), workers that
// report they cannot do the task, and when the round closes: all sampled workers answered (or all
// but newcomers, when some sampled worker has answered rounds before); the quorum of accepted
// updates is in after the soft deadline; or the hard deadline passed.
// No I/O and no clock of its own: the engine passes messages and the time in, so every rule
// is unit-tested with exact times.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/wire.hpp"
#include "fl/coordinator/update_validator.hpp"
#include "fl/coordinator/worker_channel.hpp"

namespace fl::coordinator {

using RoundClock = std::chrono::steady_clock;

struct RoundPlan {
  std::string job_id;
  std::uint64_t round = 0;
  common::Digest base_model_digest{};
  common::TensorLayout layout;
  std::set<common::PublicKey> sampled;  // workers the task reached
  // Sampled keys that never answered a round before: the round does not wait for them once
  // every other sampled worker has answered.
  std::set<common::PublicKey> newcomers;
  std::uint64_t max_samples = 0;
  double max_norm = 0;       // 0: no limit
  std::size_t quorum = 1;    // accepted updates that close the round after the soft deadline
  RoundClock::time_point soft_deadline{};
  RoundClock::time_point hard_deadline{};
};

// quorum = max(1, ceil(quorum_fraction * sampled)).
std::size_t quorum_for(double quorum_fraction, std::size_t sampled);

struct Equivocation {
  common::PublicKey worker{};
  common::Digest first{}, second{};
  common::UpdateClaim first_claim, second_claim;  // what both signatures commit to: the evidence
};

struct TaskFailure {
  common::PublicKey worker{};
  std::string reason;
};

struct OfferOutcome {
  enum class Kind { kAccepted, kRejected, kResend };
  Kind kind = Kind::kRejected;
  common::UpdateAck ack;  // unsigned; the engine signs and sends it (nothing for kResend)
  std::optional<Equivocation> equivocation;
};

// A worker's rejections on the ledger per round, and the length of a recorded reason: junk
// cannot grow the ledger faster than this.
inline constexpr std::size_t kMaxLedgerRejectionsPerWorker = 3;
inline constexpr std::size_t kMaxLedgerReasonChars = 200;

// Input refused without a ledger entry (it proves nothing about any key), counted per round for
// the metrics and the log.
struct UnrecordedInput {
  std::uint64_t undecodable = 0;    // frames or update headers that did not decode
  std::uint64_t unregistered = 0;   // from a connection with no registered key, or naming another
  std::uint64_t bad_signature = 0;  // the signature did not verify
  std::uint64_t unsampled = 0;      // verified, but the key was not asked this round
  std::uint64_t over_cap = 0;       // verified rejections beyond kMaxLedgerRejectionsPerWorker
  std::uint64_t rate_limited = 0;   // messages dropped by the per-peer rate limit (engine)
  std::uint64_t registrations_refused = 0;  // (engine)
  std::uint64_t total() const {
    return undecodable + unregistered + bad_signature + unsampled + over_cap + rate_limited +
           registrations_refused;
  }
};

// What a closed round collected.
struct CollectedRound {
  std::uint64_t round = 0;
  std::size_t sampled = 0;
  std::size_t population = 0;  // workers the sample was drawn from (DP's q = sampled / population)
  std::vector<ValidatedUpdate> accepted;  // in worker-key order
  std::vector<Rejection> rejected;        // verified and within the cap, in arrival order
  UnrecordedInput unrecorded;             // the rest
  std::vector<TaskFailure> task_failures;
  std::vector<common::PublicKey> never_answered;  // sampled, sent nothing usable
  std::size_t answered = 0;
  std::string close_reason;  // "all answered", "quorum after soft deadline", "deadline", ...
};

class RoundCollector {
 public:
  explicit RoundCollector(RoundPlan plan) : plan_(std::move(plan)) {}

  // An update message. `sender`: the key registered from the sending peer, if any. A rejection
  // goes to the ledger only when `sender` signed the update, was sampled and is under the cap;
  // anything else is counted in `unrecorded`.
  OfferOutcome offer(const InboundMessage& message, const common::PublicKey* sender);
  // A sampled worker says it cannot do this round's task; it counts as having answered.
  // Returns false (and records nothing) for a worker that was not asked or already answered.
  bool task_failed(const common::PublicKey& worker, std::string reason);

  std::optional<std::string> close_reason(RoundClock::time_point now) const;
  // Sampled and not yet answered: a worker that rejoins gets the task again.
  bool awaiting(const common::PublicKey& worker) const;
  const RoundPlan& plan() const { return plan_; }

  CollectedRound finish(std::string close_reason) &&;

 private:
  RoundPlan plan_;
  std::map<common::PublicKey, ValidatedUpdate> accepted_;
  void record_rejection(Rejection rejection);

  std::vector<Rejection> rejected_;
  UnrecordedInput unrecorded_;
  std::map<common::PublicKey, std::size_t> recorded_rejections_;
  std::vector<TaskFailure> failures_;
  std::set<common::PublicKey> answered_;
  std::map<common::PublicKey, std::pair<common::Digest, common::UpdateClaim>> first_update_;  // equivocation check
};

}  // namespace fl::coordinator
