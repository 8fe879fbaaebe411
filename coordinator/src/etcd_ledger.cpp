#include "fl/coordinator/etcd_ledger.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "fl/ledger/replicated_block_store.hpp"

namespace fl::coordinator {
namespace {

// Appends one line per alarm to output.dir/alarms.jsonl (the watchdog's thread writes it).
ledger::ChainWatchdog::Hook alarm_file(const std::filesystem::path& path,
                                       ledger::ChainWatchdog::Hook also) {
  auto mutex = std::make_shared<std::mutex>();
  return [path, mutex, also](const ledger::ChainRewrite& rw) {
    if (also) also(rw);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::lock_guard lock(*mutex);
    std::ofstream(path, std::ios::app)
        << nlohmann::json{{"alarm", rw.deleted ? "block_deleted" : "block_rewritten"},
                          {"height", rw.height},
                          {"key", rw.key},
                          {"time_ms", now}}
               .dump()
        << '\n';
  };
}

}  // namespace

Result<EtcdLedger> open_etcd_ledger(const JobConfig& config, const std::string& owner,
                                    const std::atomic<bool>* stop,
                                    ledger::ChainWatchdog::Hook on_alarm,
                                    const ledger::JobOwnerLease::Waiting& waiting) {
  ledger::EtcdStoreOptions store;
  store.etcd.endpoints = config.ledger_etcd;
  store.chain = config.ledger_chain;
  EtcdLedger out;
  const auto ttl = static_cast<std::int64_t>(config.ledger_lease_ttl_s);
  FL_ASSIGN_OR_RETURN(out.owner,
                      ledger::JobOwnerLease::acquire(store, config.job_id, owner, ttl, stop, waiting));
  FL_ASSIGN_OR_RETURN(out.watchdog, ledger::ChainWatchdog::start(
                                        store, alarm_file(config.output_dir / "alarms.jsonl",
                                                          std::move(on_alarm))));
  FL_ASSIGN_OR_RETURN(out.models, ledger::EtcdJobModels::open(out.owner->guarded(store)));
  ledger::ReplicaOptions replica;
  replica.store = out.owner->guarded(store);
  replica.replica_db = config.output_dir / "ledger.db";
  replica.stop = stop;
  FL_ASSIGN_OR_RETURN(auto opened, ledger::ReplicatedBlockStore::open(std::move(replica)));
  const auto& report = opened->opening_report();
  spdlog::info("ledger: {}, verified {} blocks, head {}", opened->name(), report.blocks,
               report.blocks ? common::to_hex(report.head_hash).substr(0, 16) : "(empty)");
  FL_ASSIGN_OR_RETURN(out.ledger, ledger::Ledger::open(std::move(opened)));
  return out;
}

}  // namespace fl::coordinator
