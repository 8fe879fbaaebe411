// The transport-free round engine: it serves whatever a WorkerChannel delivers (registrations,
// heartbeats, updates, task errors), waits for enough workers, and runs one round's collection:
// sample, send the task, feed updates to the RoundCollector until it closes, answer every
// update with a signed acknowledgement. A worker that rejoins while its round is open gets the
// task again; silent workers are dropped and named. The same engine drives `fl-coordinator run`
// (ZeroMQ channel), `fl-coordinator simulate` (virtual workers) and the unit tests (a fake).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/coordinator/enrolment.hpp"
#include "fl/coordinator/rate_limiter.hpp"
#include "fl/coordinator/round.hpp"
#include "fl/coordinator/registration_challenge.hpp"
#include "fl/coordinator/round_collector.hpp"
#include "fl/coordinator/worker_channel.hpp"
#include "fl/coordinator/worker_registry.hpp"

namespace fl::coordinator {

struct EngineSettings {
  std::string job_id;
  std::string model;  // model spec sent with each task
  common::TensorLayout layout;
  common::RoundTask task_template;  // training settings; job, round, model and digest are filled in
  std::uint64_t seed = 1;
  SamplingPolicy sampling;
  SamplingRequirement sampling_requirement;  // stake or approval; newcomers' share of a sample
  StakeLookup stake_of;                      // the ledger's stakes (nullptr: none)
  RateLimit peer_messages{100, 200};         // per connection; excess is dropped and counted
  std::size_t max_peers_tracked = 65'536;    // rate-limit buckets held at once
  double quorum_fraction = 0.5;
  std::size_t min_quorum = 0;  // at least this many accepted updates close after the soft deadline
  double soft_deadline_s = 30;
  double deadline_s = 120;
  double registration_wait_s = 60;
  double heartbeat_timeout_s = 15;  // 0: never drop a silent worker
  std::uint64_t max_samples_per_update = 10'000'000;
  double max_update_norm = 0;
  // A TorchScript job's .pt file, served to workers that ask by its digest (ModelFileRequest);
  // task_template.model_file_digest names it. Empty for zoo models.
  std::shared_ptr<const std::vector<std::uint8_t>> model_file;
  // Refuse registrations from connections without an authenticated key (set when CURVE is on).
  bool require_authenticated_key = false;
  // The job's terms (common::terms_text()) and the researcher's signature over their digest,
  // offered with every challenge; a registration without consent to them is refused. Empty: a
  // job without terms (simulate, unit tests).
  std::string terms;
  common::Signature terms_signature{};
  // Called for each equivocation (the coordinator keeps it as evidence).
  std::function<void(std::uint64_t round, const Equivocation&)> on_equivocation;
  // Called between messages whenever the engine waits (an edge coordinator serves its link to
  // the job's owner here, so it stays alive while its own workers train).
  std::function<void()> on_idle;
};

class RoundEngine {
 public:
  // `stop` is polled while waiting; once set, waits end with kUnavailable "stopped".
  RoundEngine(EngineSettings settings, WorkerChannel& channel, WorkerRegistry& registry,
              const common::KeyPair& coordinator_key, const std::atomic<bool>& stop);

  // Serves messages until min_workers are registered; kTimeout after registration_wait_s
  // (registered workers are told the coordinator gave up).
  Status wait_for_workers();
  // One round's collection from `global` (whose digest is `global_digest`).
  Result<CollectedRound> collect(std::uint64_t round, std::span<const float> global,
                                 const common::Digest& global_digest);
  // The latest final checkpoint of the ledger (cosigned_checkpoint_to_json), carried by every
  // later round task;
  // `headers`: the block headers up to its height (RoundTask::chain_headers).
  void set_checkpoint(std::string json, std::vector<common::BlockHeader> headers = {}) {
    settings_.task_template.checkpoint = std::move(json);
    settings_.task_template.chain_headers = std::move(headers);
  }
  // An edge coordinator's round follows its parent's task: the model, layout, training settings,
  // seed and checkpoint of `parent_task` (so its workers train as they would under the parent),
  // and deadlines that end the collection `margin_s` before the parent's deadline.
  void follow(const common::RoundTask& parent_task, double margin_s);
  // Signs and sends an acknowledgement (receipts go this way once the round is recorded).
  void send_ack(const common::PublicKey& worker, common::UpdateAck ack);
  // Tells every registered worker the job is over.
  void shutdown_all(const std::string& reason);
  // Serves one message (or waits up to `timeout` for one).
  void pump(std::chrono::milliseconds timeout);

  const WorkerRegistry& registry() const { return registry_; }

 private:
  // The round being collected: its decisions, and the task to resend to rejoining workers.
  struct OpenRound {
    RoundCollector collector;
    std::string task_header;
    std::span<const float> global;
  };
  void handle(InboundMessage& message);
  void handle_register(const InboundMessage& message);
  void answer_registration(const PeerId& peer, common::RegisterAck ack);
  void handle_update(const InboundMessage& message);
  void handle_task_error(const InboundMessage& message);
  void handle_model_file_request(const InboundMessage& message);
  void reply_error(const PeerId& peer, const std::string& reason);
  Status send_task(const common::PublicKey& worker, const std::string& task_header,
                   std::span<const float> global);
  void expire_silent_workers();
  bool admit(const PeerId& peer);
  void credit_late_newcomer(const InboundMessage& message);
  // A warning about untrusted input: rate-limited, so a flood cannot fill the log.
  template <typename... Args>
  void warn_untrusted(spdlog::format_string_t<Args...> format, Args&&... args);

  EngineSettings settings_;
  WorkerChannel& channel_;
  WorkerRegistry& registry_;
  const common::KeyPair& key_;
  const std::atomic<bool>& stop_;
  std::optional<OpenRound> open_;  // while collect() runs
  SamplingGate gate_;
  RateLimiter peer_limiter_;
  LogThrottle untrusted_log_;
  UnrecordedInput engine_counts_;
  std::uint64_t last_round_ = 0;                   // the round collected last, and
  std::set<common::PublicKey> last_newcomers_;     // the newcomers it sampled  // since the last round closed: rate-limited, malformed, refused
  RegistrationChallenges challenges_;
  double own_soft_deadline_s_, own_deadline_s_;  // as configured (follow() shortens them)
  std::optional<std::uint64_t> parent_seed_;      // follow(): the parent task's seed
};

}  // namespace fl::coordinator
