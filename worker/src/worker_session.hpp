// One worker's conversation with its coordinator: registration (with backoff and a time
// limit), then round tasks, acknowledgements and heartbeats until the job ends or a stop
// signal arrives. Private to fl_worker.
#pragma once

#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "fl/common/checkpoint_keeper.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/handshake_watch.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/worker/job_check.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"
#include "fl/worker/worker.hpp"

namespace fl::worker {

struct LocalData {
  models::Dataset data;               // only this worker's examples
  std::vector<std::int64_t> indices;  // 0..n-1 over `data`
  std::string fingerprint;
};

class WorkerSession {
 public:
  WorkerSession(const WorkerOptions& o, common::KeyPair key, LocalData data, torch::Device device)
      : o_(o), key_(std::move(key)), local_(std::move(data)), device_(device),
        coordinator_key_(o.coordinator_key.value_or(common::PublicKey{})),
        endpoints_(coordinator_endpoints(o.coordinator)) {}

  // Ok when the job ends or a stop signal arrives. Never throws.
  Status run();
  // Reads the terms the coordinator offers and judges them; never registers. Never throws.
  Result<JobCheck> check();

 private:
  // kRedirected: a standby member named the job's owner and the session now points at it.
  enum class Joined { kRegistered, kJobOver, kStopped, kChecked, kRedirected };

  Status serve();
  Status connect();
  Result<Joined> register_with_coordinator();
  std::optional<Result<Joined>> answer_to_registration(const common::Envelope& env);
  std::string registration_header(const common::Digest& challenge, const std::string& job_id) const;
  bool signed_shutdown(const common::Envelope& env, std::string* reason) const;
  void serve_task(common::Envelope env);
  Status do_task(const common::RoundTask& task, const common::Envelope& env);
  Status prepare_model(const common::RoundTask& task);
  void report_task_error(const common::RoundTask& task, const Error& error);
  void handle_ack(const common::Envelope& env);
  // A task's final checkpoint (RoundTask::checkpoint), offered to the keeper: adopted when
  // higher, ignored (with a warning) when it does not carry the quorum's cosignatures; a lower
  // or diverging one sets misbehaviour_, which ends the session.
  void offer_checkpoint(const common::RoundTask& task);
  std::optional<common::CheckpointKeeper> checkpoints_;
  // With --witness: receipts whose block no final checkpoint covers yet. A task whose checkpoint
  // and headers link a receipt's block to the cosigned head settles it: one line in
  // <receipts>.final (receipt_json.hpp's settled form) and a log line.
  struct Unsettled {
    std::string job_id;
    std::uint64_t round = 0;
    common::Receipt receipt;
  };
  void settle_receipts(const common::CosignedCheckpoint& cp, std::span<const common::BlockHeader> headers);
  std::vector<Unsettled> unsettled_;
  std::ofstream final_receipts_;
  std::optional<Error> misbehaviour_;
  // TorchScript tasks: the model file comes from the coordinator by digest and is cached.
  bool have_model_file(const common::Digest& digest);
  std::filesystem::path cached_model_path(const common::Digest& digest) const;
  void request_model_file(const common::Digest& digest, common::Envelope task);
  void handle_model_file(const common::Envelope& env);
  bool stopping() const;
  // The job's coordinators (--coordinator A,B,C): the one tried now, and the move to the next
  // when it stops answering (the job's owner died and another member takes it over).
  const std::string& endpoint() const { return endpoints_[current_]; }
  bool next_endpoint();  // false with a single endpoint; pins the next endpoint's key
  // A standby's refusal named the job's owner: points the session at the owner's endpoint (the
  // one whose pinned key is the owner's, or the next when all share one key); false when the
  // owner is not among the job's coordinators, or after too many redirects in a row.
  bool follow_redirect(const common::PublicKey& owner);
  int redirects_ = 0;
  // True when the connection has been down past the failover time and another endpoint exists.
  Result<bool> coordinator_lost();
  Status send(common::MessageType type, const std::string& header,
              std::span<const std::uint8_t> payload = {}) {
    return common::send_message(socket_, common::SocketRole::kDealer, {}, type, header, payload);
  }

  const WorkerOptions& o_;
  common::KeyPair key_;
  LocalData local_;
  std::vector<float> previous_global_;  // the last task's model (research: replay_global)
  torch::Device device_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string job_id_;
  common::PublicKey coordinator_key_{};  // the pinned key
  std::optional<common::HandshakeWatch> watch_;  // CURVE only
  common::Digest answered_challenge_{};  // the challenge last signed on this connection
  int challenge_answers_ = 0;
  bool check_only_ = false;
  std::optional<JobCheck> checked_;  // the last judgement of the offered terms
  common::Digest consent_{};         // the terms this worker consents to (zero: none offered)
  std::unique_ptr<models::Model> model_;
  std::optional<Error> model_misfit_;  // why model_ cannot train on local_.data, if it cannot
  std::ofstream receipts_;
  std::optional<common::Envelope> waiting_task_;  // the latest task waiting for its model file
  std::set<common::Digest> verified_model_files_;  // cached files whose digest was checked
  std::vector<std::string> endpoints_;
  std::size_t current_ = 0;
};

}  // namespace fl::worker
