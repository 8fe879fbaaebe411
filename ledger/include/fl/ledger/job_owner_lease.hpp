// A job is owned through an etcd lease: its owner key /fedledger/<chain>/owner/<job> is attached
// to the owner's lease, kept alive on a thread, and every append of the owner is guarded by
// still holding it (EtcdStoreOptions::owner_lease_*). An owner paused past the TTL loses the key
// when etcd expires the lease, so its appends are refused; another member may then take the job.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "fl/common/result.hpp"
#include "fl/ledger/etcd_block_store.hpp"
#include "fl/ledger/etcd_client.hpp"

namespace fl::ledger {

std::string owner_key(std::string_view prefix, std::string_view job_id);  // P owner/<job>

class JobOwnerLease {
 public:
  // Grants a lease of `ttl_s` and puts the job's owner key (value: `owner`) on it, waiting while
  // another owner holds the key (until its lease expires or it lets go, or `stop` is set).
  // `waiting`, when set, hears the holder's value on each try while another owner holds it.
  using Waiting = std::function<void(const std::string& holder)>;
  static Result<std::unique_ptr<JobOwnerLease>> acquire(const EtcdStoreOptions& options,
                                                        const std::string& job_id,
                                                        const std::string& owner,
                                                        std::int64_t ttl_s,
                                                        const std::atomic<bool>* stop,
                                                        const Waiting& waiting = {});
  ~JobOwnerLease();  // stops renewing and revokes the lease (the key goes with it)
  JobOwnerLease(const JobOwnerLease&) = delete;
  JobOwnerLease& operator=(const JobOwnerLease&) = delete;

  const std::string& key() const { return key_; }
  std::int64_t lease_id() const { return lease_id_; }
  // False once etcd said the lease expired: nothing of this owner will be appended any more.
  bool held() const { return held_.load(); }
  // The options an owner's block store appends with: guarded by this lease.
  EtcdStoreOptions guarded(EtcdStoreOptions options) const;

 private:
  JobOwnerLease(std::unique_ptr<EtcdClient> client, std::string key, Lease lease);
  void renew();

  std::unique_ptr<EtcdClient> client_;
  std::string key_;
  std::int64_t lease_id_ = 0, ttl_s_ = 0;
  std::atomic<bool> held_{true}, stop_{false};
  std::thread thread_;
};

}  // namespace fl::ledger
