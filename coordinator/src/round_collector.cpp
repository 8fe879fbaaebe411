#include "fl/coordinator/round_collector.hpp"

#include <cmath>

namespace fl::coordinator {

std::size_t quorum_for(double quorum_fraction, std::size_t sampled) {
  return static_cast<std::size_t>(
      std::max(1.0, std::ceil(quorum_fraction * static_cast<double>(sampled))));
}

void RoundCollector::record_rejection(Rejection rejection) {
  switch (rejection.standing) {
    case Standing::kUndecodable: ++unrecorded_.undecodable; return;
    case Standing::kUnregistered: ++unrecorded_.unregistered; return;
    case Standing::kBadSignature: ++unrecorded_.bad_signature; return;
    case Standing::kUnsampled: ++unrecorded_.unsampled; return;
    case Standing::kVerified: break;
  }
  answered_.insert(rejection.worker);
  if (++recorded_rejections_[rejection.worker] > kMaxLedgerRejectionsPerWorker) {
    ++unrecorded_.over_cap;
    return;
  }
  if (rejection.reason.size() > kMaxLedgerReasonChars) {
    rejection.reason.resize(kMaxLedgerReasonChars - 3);
    rejection.reason += "...";
  }
  rejected_.push_back(std::move(rejection));
}

OfferOutcome RoundCollector::offer(const InboundMessage& message, const common::PublicKey* sender) {
  RoundExpectation expect{plan_.job_id,   plan_.round,       plan_.base_model_digest, &plan_.layout,
                          &plan_.sampled, plan_.max_samples, plan_.max_norm,          sender};
  Rejection rejection;
  auto update = validate_update(message, expect, rejection);
  OfferOutcome out;
  out.ack.job_id = plan_.job_id;
  out.ack.round = plan_.round;
  out.ack.update_digest = rejection.digest;

  if (update.ok()) {
    const auto worker = update->header.worker_key;
    auto [seen, first] = first_update_.try_emplace(worker, update->digest, common::update_claim(update->header));
    if (first) {
      answered_.insert(worker);
      out.kind = OfferOutcome::Kind::kAccepted;
      out.ack.accepted = true;
      accepted_.emplace(worker, std::move(update).value());
      return out;
    }
    if (seen->second.first == update->digest) {
      out.kind = OfferOutcome::Kind::kResend;
      return out;
    }
    // Two different signed updates for one job, round and key: keep both as evidence and use
    // neither.
    rejection.reason = "equivocation: a second, different update for round " + std::to_string(plan_.round);
    out.equivocation = Equivocation{worker, seen->second.first, update->digest, seen->second.second,
                                    common::update_claim(update->header)};
    if (auto it = accepted_.find(worker); it != accepted_.end()) {
      record_rejection({worker, it->second.digest, rejection.reason, Standing::kVerified});
      accepted_.erase(it);
    }
  }
  out.ack.reason = rejection.reason;
  record_rejection(std::move(rejection));
  return out;
}

bool RoundCollector::task_failed(const common::PublicKey& worker, std::string reason) {
  if (!plan_.sampled.count(worker) || answered_.count(worker)) return false;
  answered_.insert(worker);
  failures_.push_back({worker, std::move(reason)});
  return true;
}

std::optional<std::string> RoundCollector::close_reason(RoundClock::time_point now) const {
  if (answered_.size() >= plan_.sampled.size()) return "all answered";
  if (plan_.newcomers.size() < plan_.sampled.size()) {
    std::size_t veterans_answered = 0;
    for (const auto& k : answered_) veterans_answered += plan_.newcomers.count(k) ? 0 : 1;
    if (veterans_answered >= plan_.sampled.size() - plan_.newcomers.size()) {
      return "all answered but newcomers";
    }
  }
  if (now >= plan_.soft_deadline && accepted_.size() >= plan_.quorum) return "quorum after soft deadline";
  if (now >= plan_.hard_deadline) return "deadline";
  return std::nullopt;
}

bool RoundCollector::awaiting(const common::PublicKey& worker) const {
  return plan_.sampled.count(worker) && !answered_.count(worker);
}

CollectedRound RoundCollector::finish(std::string close_reason) && {
  CollectedRound out;
  out.round = plan_.round;
  out.sampled = plan_.sampled.size();
  out.answered = answered_.size();
  for (auto& [key, update] : accepted_) out.accepted.push_back(std::move(update));  // key order
  out.rejected = std::move(rejected_);
  out.unrecorded = unrecorded_;
  out.task_failures = std::move(failures_);
  for (const auto& k : plan_.sampled) {
    if (!answered_.count(k)) out.never_answered.push_back(k);
  }
  out.close_reason = std::move(close_reason);
  return out;
}

}  // namespace fl::coordinator
