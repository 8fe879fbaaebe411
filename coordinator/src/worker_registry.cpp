#include "fl/coordinator/worker_registry.hpp"

namespace fl::coordinator {

namespace {
RateLimit per_minute(double n) { return {n / 60.0, std::max(n, 1.0)}; }
constexpr std::size_t kMaxSourcesTracked = 65'536;
}  // namespace

WorkerRegistry::WorkerRegistry(bool open_enrolment, std::vector<common::PublicKey> allowed, EnrolmentLimits limits)
    : open_(open_enrolment),
      new_keys_(per_minute(limits.new_keys_per_minute), 1),
      new_keys_by_source_(per_minute(limits.new_keys_per_source_per_minute), kMaxSourcesTracked),
      allowed_(allowed.begin(), allowed.end()) {}

Status WorkerRegistry::enrol(const common::RegisterRequest& request, const std::string& identity,
                             Clock::time_point now, const std::string& source) {
  if (request.version != common::kProtocolVersion) {
    return make_error(ErrorCode::kProtocol, "protocol version " + std::to_string(request.version) +
                                                " not supported (coordinator speaks " +
                                                std::to_string(common::kProtocolVersion) + ")");
  }
  if (!common::verify_registration(request)) {
    return make_error(ErrorCode::kBadSignature, "registration signature does not verify for key " +
                                                    common::short_id(request.worker_key));
  }
  if (!open_ && !allowed_.count(request.worker_key)) {
    return make_error(ErrorCode::kPrecondition,
                      "worker key " + common::to_hex(request.worker_key) + " is not on the allow-list");
  }
  if (open_ && !workers_.count(request.worker_key)) {
    // Both buckets are asked only for a key that is new; a refusal spends nothing more.
    if (!new_keys_by_source_.allow(source, now)) {
      return make_error(ErrorCode::kLimitExceeded, "too many new worker keys from " +
                                                       (source.empty() ? std::string("this source") : source) +
                                                       "; try again in a minute (enrolment.max_new_per_source_per_minute)");
    }
    if (!new_keys_.allow("", now)) {
      return make_error(ErrorCode::kLimitExceeded,
                        "too many new worker keys; try again in a minute (enrolment.max_new_per_minute)");
    }
  }
  auto [it, inserted] = workers_.try_emplace(request.worker_key);
  WorkerRecord& rec = it->second;
  if (!inserted) by_identity_.erase(rec.identity);
  const bool keep_ledger_flag = !inserted && rec.registration.signature == request.signature;
  rec.registration = request;
  rec.identity = identity;
  rec.last_seen = now;
  rec.on_ledger = keep_ledger_flag && rec.on_ledger;
  by_identity_[identity] = request.worker_key;
  return ok_status();
}

bool WorkerRegistry::touch(const std::string& identity, Clock::time_point now) {
  auto it = by_identity_.find(identity);
  if (it == by_identity_.end()) return false;
  workers_.at(it->second).last_seen = now;
  return true;
}

std::vector<common::PublicKey> WorkerRegistry::expire(Clock::time_point now, Clock::duration timeout) {
  std::vector<common::PublicKey> dropped;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (now - it->second.last_seen > timeout) {
      dropped.push_back(it->first);
      by_identity_.erase(it->second.identity);
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

const WorkerRecord* WorkerRegistry::find(const common::PublicKey& key) const {
  auto it = workers_.find(key);
  return it == workers_.end() ? nullptr : &it->second;
}

WorkerRecord* WorkerRegistry::find(const common::PublicKey& key) {
  auto it = workers_.find(key);
  return it == workers_.end() ? nullptr : &it->second;
}

const common::PublicKey* WorkerRegistry::key_of(const std::string& identity) const {
  auto it = by_identity_.find(identity);
  return it == by_identity_.end() ? nullptr : &it->second;
}

std::vector<common::PublicKey> WorkerRegistry::active_keys() const {
  std::vector<common::PublicKey> keys;
  for (const auto& [k, _] : workers_) keys.push_back(k);
  return keys;
}

}  // namespace fl::coordinator
