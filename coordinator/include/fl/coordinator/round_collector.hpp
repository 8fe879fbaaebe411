// The decisions of one round while it collects: which updates are accepted, which rejected
// and why, resends, equivocation (two different signed updates from one key), workers that
// report they cannot do the task, and when the round closes: all sampled workers answered; the
// quorum of accepted updates is in after the soft deadline; or the hard deadline passed.
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

// What a closed round collected.
struct CollectedRound {
  std::uint64_t round = 0;
  std::size_t sampled = 0;
  std::vector<ValidatedUpdate> accepted;  // in worker-key order
  std::vector<Rejection> rejected;        // in arrival order
  std::vector<TaskFailure> task_failures;
  std::vector<common::PublicKey> never_answered;  // sampled, sent nothing usable
  std::size_t answered = 0;
  std::string close_reason;  // "all answered", "quorum after soft deadline", "deadline", ...
};

class RoundCollector {
 public:
  explicit RoundCollector(RoundPlan plan) : plan_(std::move(plan)) {}

  // An update message. `sender`: the key registered from the sending peer, if any; a forged
  // signature is blamed on it, never on the key the header claims.
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
  std::vector<Rejection> rejected_;
  std::vector<TaskFailure> failures_;
  std::set<common::PublicKey> answered_;
  std::map<common::PublicKey, common::Digest> first_update_;  // equivocation check
};

}  // namespace fl::coordinator
