#include "fl/ledger/job_owner_lease.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fl::ledger {
namespace {
using namespace std::chrono_literals;
}  // namespace

std::string owner_key(std::string_view prefix, std::string_view job_id) {
  return std::string(prefix) + "owner/" + std::string(job_id);
}

Result<std::unique_ptr<JobOwnerLease>> JobOwnerLease::acquire(const EtcdStoreOptions& options,
                                                              const std::string& job_id,
                                                              const std::string& owner,
                                                              std::int64_t ttl_s,
                                                              const std::atomic<bool>* stop,
                                                              const Waiting& waiting) {
  FL_ASSIGN_OR_RETURN(auto client, EtcdClient::create(options.etcd));
  const std::string key = owner_key(chain_prefix(options.chain), job_id);
  const std::string where = "job '" + job_id + "' owner key " + key;
  FL_ASSIGN_OR_RETURN(auto lease, client->grant_lease(ttl_s));
  bool told = false;
  for (;;) {
    auto r =
        client->txn({Compare::absent(key)}, {TxnOp::put(key, owner, lease.id)}, {TxnOp::get(key)});
    if (!r.ok()) {
      (void)client->revoke_lease(lease.id);
      return with_context(r.error(), "cannot take " + where);
    }
    if (r->succeeded) break;
    const auto& kvs = r->responses.empty() ? std::vector<KeyValue>{} : r->responses[0].kvs;
    if (waiting && !kvs.empty()) waiting(kvs.front().value);
    if (!told) {
      spdlog::info("{} is held by {} (lease {}); waiting until it lets go or its lease expires",
                   where, kvs.empty() ? "another member" : kvs.front().value,
                   kvs.empty() ? 0 : kvs.front().lease);
      told = true;
    }
    if (stop && stop->load()) {
      (void)client->revoke_lease(lease.id);
      return make_error(ErrorCode::kUnavailable, "stopped while waiting for " + where);
    }
    std::this_thread::sleep_for(250ms);
    if (auto alive = client->keep_alive(lease.id); !alive.ok()) {
      if (alive.error().code != ErrorCode::kNotFound) return with_context(alive.error(), where);
      FL_ASSIGN_OR_RETURN(lease, client->grant_lease(ttl_s));  // ours expired while we waited
    }
  }
  spdlog::info("this coordinator owns {} through lease {} (TTL {} s)", where, lease.id,
               lease.ttl_s);
  return std::unique_ptr<JobOwnerLease>(new JobOwnerLease(std::move(client), key, lease));
}

JobOwnerLease::JobOwnerLease(std::unique_ptr<EtcdClient> client, std::string key, Lease lease)
    : client_(std::move(client)), key_(std::move(key)), lease_id_(lease.id), ttl_s_(lease.ttl_s) {
  thread_ = std::thread([this] { renew(); });
}

JobOwnerLease::~JobOwnerLease() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (held_) (void)client_->revoke_lease(lease_id_);
}

EtcdStoreOptions JobOwnerLease::guarded(EtcdStoreOptions options) const {
  options.owner_lease_key = key_;
  options.owner_lease_id = lease_id_;
  return options;
}

void JobOwnerLease::renew() {
  // A third of the TTL between renewals leaves two tries before the lease runs out.
  const auto every = std::chrono::milliseconds(std::max<std::int64_t>(1000 * ttl_s_ / 3, 300));
  auto next = std::chrono::steady_clock::now() + every;
  while (!stop_) {
    if (std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(50ms);
      continue;
    }
    auto left = client_->keep_alive(lease_id_);
    next = std::chrono::steady_clock::now() + every;
    if (left.ok()) continue;
    if (left.error().code == ErrorCode::kNotFound) {
      held_ = false;
      spdlog::error(
          "lost {}: its lease {} expired (was this process paused?); no block of this "
          "coordinator is appended for the job any more",
          key_, lease_id_);
      return;
    }
    spdlog::warn("cannot renew lease {} of {}: {}", lease_id_, key_, left.error().message);
  }
}

}  // namespace fl::ledger
