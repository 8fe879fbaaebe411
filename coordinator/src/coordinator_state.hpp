// The coordinator's state for one job (private to fl_coordinator): keys, channel, engine, model,
// rule, scorer, ledger, observers and where the job stands. coordinator.cpp opens the job and
// runs its rounds; coordinator_ledger.cpp is what it writes on the ledger (rounds, slashes,
// refunds) and what it checks there when a job resumes (terms, privacy budget).
#pragma once

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/job_terms.hpp"
#include "fl/common/rdp_composition.hpp"
#include "fl/coordinator/coordinator.hpp"
#include "fl/coordinator/etcd_ledger.hpp"
#include "fl/coordinator/http/job_monitor.hpp"
#include "fl/coordinator/http/job_server.hpp"
#include "fl/coordinator/model_host.hpp"
#include "fl/coordinator/privacy/client_dp.hpp"
#include "fl/coordinator/round.hpp"
#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/round_metrics.hpp"
#include "fl/coordinator/run_folder.hpp"
#include "fl/coordinator/store_service.hpp"
#include "fl/coordinator/update_store.hpp"
#include "fl/coordinator/worker_registry.hpp"
#include "fl/ledger/ledger.hpp"

namespace fl::coordinator {

struct Coordinator::State {
  JobConfig config;
  std::atomic<bool> never{false};
  const std::atomic<bool>* stop = &never;
  std::optional<RunFolderLock> lock;
  common::KeyPair key;
  common::KeyPair researcher;
  EtcdLedger replicated;  // with [ledger] etcd: the owner lease and the watch (ledger is below)
  std::unique_ptr<WorkerChannel> channel;
  std::string endpoint;
  WorkerRegistry registry{false, {}};
  std::unique_ptr<ModelHost> model;
  common::JobTerms terms;  // recorded with the job; workers consent to them
  std::unique_ptr<AggregationRule> rule;
  std::unique_ptr<ContributionScorer> scorer;
  ScreeningHistory screening_history;
  std::unique_ptr<ledger::Ledger> ledger;
  std::optional<MetricsWriter> metrics;
  std::vector<RoundObserver*> observers;  // the metrics writer, then any others
  std::unique_ptr<RoundEngine> engine;
  std::optional<UpdateStore> store;  // the round's updates and models, kept for the terms' retention
  std::shared_ptr<SharedKeys> store_allowed = std::make_shared<SharedKeys>();  // the consortium's keys
  std::unique_ptr<StoreServer> store_server;  // with [ledger] store_listen
  std::vector<float> global;
  common::Digest global_digest{};
  std::uint64_t next_round = 1;
  common::RdpComposition privacy_spent;  // the DP rounds on the ledger (or run here without one)
  std::string budget_stop;               // set when the privacy budget ended the job
  std::ofstream evidence;
  std::vector<Equivocation> to_slash;  // this round's equivocators, slashed once it is recorded
  std::unique_ptr<JobMonitor> monitor;  // with [http] listen: copies for the HTTP server
  std::atomic<JobMonitor*> alarm_monitor{nullptr};  // the monitor, for the ledger watch's thread
  std::unique_ptr<JobHttpServer> http;  // stops before the monitor goes

  Status start_http();

  Status open();
  Status open_ledger_and_resume();
  Status check_terms_unchanged() const;
  Status run_round(std::uint64_t round);
  Status open_update_store();
  // With [ledger] store_listen: serves the store to the ledger's consortium (members and
  // witnesses, refreshed after each recorded round).
  Status start_store_server();
  void refresh_store_readers();
  // On the etcd chain with witnesses: the highest checkpoint k witnesses cosigned (published
  // beside the chain, etcd_checkpoints.hpp) goes with every later round task.
  void refresh_checkpoint();
  std::uint64_t checkpoint_height = 0;  // of the one the tasks carry (0: none yet)
  // A member taking over a job whose owner died holds none of its files: the model the ledger's
  // last round recorded comes from etcd (checked against the ledger's digest) into the run folder.
  Status fetch_model_from_etcd(std::uint64_t round, const common::Digest& digest) const;
  // Before the round is recorded: its accepted updates and its new model go into the store, so
  // every round on the ledger can be re-run (round_audit.hpp) for the retention period.
  Status store_round(const CollectedRound& collected, const ClosedRound& closed) const;
  Status resume_privacy_budget();
  void stop_for_budget(std::uint64_t round, const CollectedRound& collected, const std::string& why);
  Status save_model(const std::filesystem::path& path, std::uint64_t round, std::span<const float> params,
                    const common::Digest& digest) const;
  Result<std::vector<ledger::RoundReceipt>> record_on_ledger(std::uint64_t round, const CollectedRound& collected,
                                                             const ClosedRound& closed,
                                                             const std::optional<RoundSpend>& spend);
  void write_evidence(std::uint64_t round, const Equivocation& e);
  void slash_equivocators();
  void refund_bounty();
};

}  // namespace fl::coordinator
