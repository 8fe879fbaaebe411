#include "fl/coordinator/worker_registry.hpp"

namespace fl::coordinator {

WorkerRegistry::WorkerRegistry(bool open_enrolment, std::vector<common::PublicKey> allowed)
    : open_(open_enrolment), allowed_(allowed.begin(), allowed.end()) {}

Status WorkerRegistry::enrol(const common::RegisterRequest& request, const std::string& identity,
                             Clock::time_point now) {
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
