// The coordinator's ledger on the replicated etcd chain ([ledger] etcd): output.dir/ledger.db
// becomes this coordinator's replica, filled and fully verified from etcd before it serves;
// the coordinator owns its job through an etcd lease and appends only while it holds it; a
// watch logs an error naming the height of any block rewritten or deleted in etcd and writes it
// to output.dir/alarms.jsonl. Without [ledger] etcd the coordinator keeps the embedded SQLite.
#pragma once

#include <atomic>
#include <memory>

#include "fl/common/result.hpp"
#include "fl/coordinator/job_config.hpp"
#include "fl/ledger/chain_watchdog.hpp"
#include "fl/ledger/etcd_job_models.hpp"
#include "fl/ledger/job_owner_lease.hpp"
#include "fl/ledger/ledger.hpp"

namespace fl::coordinator {

struct EtcdLedger {
  std::unique_ptr<ledger::JobOwnerLease> owner;
  std::unique_ptr<ledger::ChainWatchdog> watchdog;
  // The job's latest model beside the chain, for a member that takes the job over.
  std::unique_ptr<ledger::EtcdJobModels> models;
  std::unique_ptr<ledger::Ledger> ledger;  // declared last: goes first
};

// Takes the job's owner lease (waiting while another member holds it, until `stop`), opens the
// replica through the etcd store guarded by the lease, and starts the watch. `owner`: what the
// owner key says (the coordinator's public key). `on_alarm` (optional) also hears each alarm;
// `waiting` (optional) hears the current owner's value while another member holds the job.
Result<EtcdLedger> open_etcd_ledger(const JobConfig& config, const std::string& owner,
                                    const std::atomic<bool>* stop,
                                    ledger::ChainWatchdog::Hook on_alarm = {},
                                    const ledger::JobOwnerLease::Waiting& waiting = {});

}  // namespace fl::coordinator
