// Who may take part and who is here: the enrolment policy (allow-list or open enrolment), each
// registered worker's key, routing identity, proof of key ownership and last heartbeat; under
// open enrolment, how fast new keys may join (see enrolment.hpp); and which keys have answered
// a round before (kept when a silent worker is dropped, so a rejoining worker keeps its standing).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/coordinator/enrolment.hpp"
#include "fl/coordinator/rate_limiter.hpp"

namespace fl::coordinator {

using Clock = std::chrono::steady_clock;

struct WorkerRecord {
  common::RegisterRequest registration;  // signed by the worker; goes onto the ledger
  std::string identity;                  // current ZeroMQ routing id
  Clock::time_point last_seen;
  bool on_ledger = false;
};

class WorkerRegistry {
 public:
  WorkerRegistry(bool open_enrolment, std::vector<common::PublicKey> allowed,
                 EnrolmentLimits limits = {});

  // Checks the proof of key ownership and the enrolment policy; re-registration of a known key
  // (a restarted worker) updates its routing identity. Under open enrolment a new key is refused
  // (kLimitExceeded) beyond the limits, in total and from `source` (the peer's address).
  Status enrol(const common::RegisterRequest& request, const std::string& identity, Clock::time_point now,
               const std::string& source = {});
  // Marks a worker as alive; false when the identity is unknown (it must register again).
  bool touch(const std::string& identity, Clock::time_point now);
  // Drops workers silent for longer than `timeout`; returns their keys.
  std::vector<common::PublicKey> expire(Clock::time_point now, Clock::duration timeout);

  const WorkerRecord* find(const common::PublicKey& key) const;
  WorkerRecord* find(const common::PublicKey& key);
  // The key registered from this routing identity, if any.
  const common::PublicKey* key_of(const std::string& identity) const;
  std::vector<common::PublicKey> active_keys() const;  // sorted
  std::size_t size() const { return workers_.size(); }
  const std::map<common::PublicKey, WorkerRecord>& all() const { return workers_; }

  // A key that answered a round (accepted, rejected after verification, or a task error).
  void note_answered(const common::PublicKey& key) { answered_.insert(key); }
  bool has_answered(const common::PublicKey& key) const { return answered_.count(key) > 0; }

 private:
  bool open_;
  RateLimiter new_keys_;
  RateLimiter new_keys_by_source_;
  std::set<common::PublicKey> answered_;
  std::set<common::PublicKey> allowed_;
  std::map<common::PublicKey, WorkerRecord> workers_;
  std::map<std::string, common::PublicKey> by_identity_;
};

}  // namespace fl::coordinator
