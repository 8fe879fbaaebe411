#include "fl/worker/worker.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "fl/common/merkle.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"
#include "fl/models/partition.hpp"
#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"

namespace fl::worker {

using common::MessageType;
using common::SocketRole;
using Clock = std::chrono::steady_clock;

namespace {

struct LocalData {
  models::Dataset data;  // only this worker's examples
  std::vector<std::int64_t> indices;  // 0..n-1 over `data`
  std::string fingerprint;
};

Result<LocalData> load_local_data(const WorkerOptions& o) {
  FL_ASSIGN_OR_RETURN(auto spec, models::parse_partition(o.partition));
  spec.seed = o.partition_seed;
  FL_ASSIGN_OR_RETURN(auto full, models::load_fashion_mnist(o.data_dir, models::Split::kTrain));
  const auto labels = models::labels_of(full);
  FL_ASSIGN_OR_RETURN(auto parts, models::partition(labels, full.num_classes, o.num_parts, spec));
  auto mine = parts.at(static_cast<std::size_t>(o.part_index));
  if (o.max_samples > 0 && static_cast<std::int64_t>(mine.size()) > o.max_samples) mine.resize(o.max_samples);
  LocalData local;
  local.fingerprint = models::dataset_fingerprint(full, mine);
  auto idx = torch::from_blob(mine.data(), {static_cast<std::int64_t>(mine.size())}, torch::kInt64).clone();
  local.data.images = full.images.index_select(0, idx);
  local.data.labels = full.labels.index_select(0, idx);
  local.data.num_classes = full.num_classes;
  if (o.attack.kind == AttackKind::kLabelFlip) {
    local.data.labels = (full.num_classes - 1) - local.data.labels;
  }
  local.indices.resize(mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) local.indices[i] = static_cast<std::int64_t>(i);
  return local;
}

class WorkerSession {
 public:
  WorkerSession(const WorkerOptions& o, common::KeyPair key, LocalData data, torch::Device device)
      : o_(o), key_(std::move(key)), local_(std::move(data)), device_(device) {}

  Status run();

 private:
  void connect();
  Status register_with_coordinator();
  void handle_task(common::Envelope& env);
  void handle_ack(const common::Envelope& env);
  Status send(MessageType type, const std::string& header, std::span<const std::uint8_t> payload = {}) {
    return common::send_message(socket_, SocketRole::kDealer, {}, type, header, payload);
  }

  const WorkerOptions& o_;
  common::KeyPair key_;
  LocalData local_;
  torch::Device device_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string job_id_;
  common::PublicKey coordinator_key_{};
  std::unique_ptr<models::Model> model_;
  bool registered_ = false;
  std::ofstream receipts_;
};

void WorkerSession::connect() {
  socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::reconnect_ivl, 100);
  socket_.set(zmq::sockopt::reconnect_ivl_max, 1000);
  socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 32);
  socket_.connect(o_.coordinator);
}

Status WorkerSession::register_with_coordinator() {
  common::RegisterRequest req;
  req.worker_key = key_.public_key;
  req.num_samples = local_.indices.size();
  req.dataset_fingerprint = local_.fingerprint;
  req.timestamp_ms = common::now_ms();
  req.device = device_.str();
  common::sign_registration(req, key_.secret_key);
  const std::string header = common::encode(req);
  while (true) {
    (void)send(MessageType::kRegister, header);
    const auto until = Clock::now() + std::chrono::seconds(2);
    while (Clock::now() < until) {
      auto msg = common::receive_message(socket_, SocketRole::kDealer, std::chrono::milliseconds(200));
      if (!msg.ok() || !msg->has_value()) continue;
      if ((*msg)->type != MessageType::kRegisterAck) continue;  // tasks from before a restart
      auto ack = common::decode<common::RegisterAck>((*msg)->header_bytes());
      if (!ack.ok()) {
        spdlog::warn("ignoring malformed registration answer: {}", ack.error().message);
        continue;
      }
      if (!ack->accepted) return make_error(ErrorCode::kPrecondition, "registration refused: " + ack->reason);
      job_id_ = ack->job_id;
      coordinator_key_ = ack->coordinator_key;
      registered_ = true;
      spdlog::info("registered with {} for job '{}' as {} ({} samples)", o_.coordinator, job_id_,
                   common::short_id(key_.public_key), req.num_samples);
      return ok_status();
    }
    // The coordinator may be down or restarting: recreate the socket and try again.
    connect();
  }
}

void WorkerSession::handle_task(common::Envelope& env) {
  auto task = common::decode<common::RoundTask>(env.header_bytes());
  if (!task.ok()) {
    spdlog::warn("ignoring malformed round task: {}", task.error().message);
    return;
  }
  if (task->job_id != job_id_) {
    spdlog::warn("ignoring task for job '{}' (registered for '{}')", task->job_id, job_id_);
    return;
  }
  auto global = common::view_payload(task->layout, env.payload_bytes());
  if (!global.ok()) {
    spdlog::warn("ignoring round {} task: {}", task->round, global.error().message);
    return;
  }
  if (common::digest_of(*global) != task->model_digest) {
    spdlog::warn("ignoring round {} task: model does not match its digest", task->round);
    return;
  }
  if (!model_ || model_->spec() != task->model) {
    auto made = models::make_model(task->model, 0);
    if (!made.ok()) {
      spdlog::error("round {}: cannot build model: {}", task->round, made.error().message);
      return;
    }
    model_ = std::move(made).value();
    model_->to(device_);
  }
  if (!(model_->layout() == task->layout)) {
    spdlog::error("round {}: task layout {} does not match local model {}", task->round,
                  task->layout.describe(), model_->layout().describe());
    return;
  }
  if (auto s = model_->set_flat_parameters(*global); !s.ok()) {
    spdlog::error("round {}: {}", task->round, s.error().message);
    return;
  }
  const auto train = models::train_options(
      task->training, task->seed ^ std::hash<std::string>{}(common::to_hex(key_.public_key)));
  const auto result = models::train_local(*model_, local_.data, local_.indices, train);

  std::vector<float> delta = model_->flat_parameters();
  for (std::size_t i = 0; i < delta.size(); ++i) delta[i] -= (*global)[i];
  apply_update_attack(o_.attack, task->round, delta);

  common::UpdateHeader h;
  h.job_id = job_id_;
  h.round = task->round;
  h.worker_key = key_.public_key;
  h.base_model_digest = task->model_digest;
  h.layout = task->layout;
  h.payload_digest = common::blake2b_256(common::as_bytes(delta));
  h.num_samples = static_cast<std::uint64_t>(result.num_samples);
  h.train_loss = static_cast<float>(result.mean_loss);
  h.train_seconds = result.seconds;
  common::sign_update(h, key_.secret_key);
  if (common::now_ms() > task->deadline_ms) {
    spdlog::warn("round {}: finished after the deadline; sending anyway", task->round);
  }
  auto s = send(MessageType::kUpdate, common::encode(h), common::as_bytes(delta));
  spdlog::info("round {}: trained {} samples in {:.2f}s, loss {:.4f}, update {} {}", task->round,
               result.num_samples, result.seconds, result.mean_loss,
               common::short_id(common::update_signing_digest(h)), s.ok() ? "sent" : s.error().message);
}

void WorkerSession::handle_ack(const common::Envelope& env) {
  auto ack = common::decode<common::UpdateAck>(env.header_bytes());
  if (!ack.ok()) {
    spdlog::warn("ignoring malformed acknowledgement: {}", ack.error().message);
    return;
  }
  if (!common::verify_update_ack(*ack, coordinator_key_)) {
    spdlog::warn("round {}: acknowledgement not signed by the coordinator; ignored", ack->round);
    return;
  }
  if (!ack->accepted) {
    spdlog::warn("round {}: update {} rejected: {}", ack->round, common::short_id(ack->update_digest), ack->reason);
    return;
  }
  if (!ack->receipt) return;
  const auto& r = *ack->receipt;
  const bool included = common::verify_inclusion(r.tx_hash, r.leaf_index, r.tree_size, r.proof, r.merkle_root);
  spdlog::info("round {}: receipt for update {}: block {}, reward {}, Merkle proof {}", ack->round,
               common::short_id(r.update_digest), r.block_height, r.reward, included ? "verified" : "INVALID");
  if (receipts_.is_open()) {
    receipts_ << nlohmann::json{{"job_id", ack->job_id},          {"round", ack->round},
                                {"update", common::to_hex(r.update_digest)}, {"reward", r.reward},
                                {"tx_hash", common::to_hex(r.tx_hash)},      {"block_height", r.block_height},
                                {"block_hash", common::to_hex(r.block_hash)},
                                {"merkle_root", common::to_hex(r.merkle_root)},
                                {"proof_verified", included}}
                     .dump()
              << '\n';
    receipts_.flush();
  }
}

Status WorkerSession::run() {
  if (!o_.receipts_file.empty()) receipts_.open(o_.receipts_file, std::ios::app);
  connect();
  FL_RETURN_IF_ERROR(register_with_coordinator());
  auto next_heartbeat = Clock::now();
  const auto beat = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.heartbeat_s));
  while (true) {
    if (Clock::now() >= next_heartbeat) {
      (void)send(MessageType::kHeartbeat, common::encode(common::Heartbeat{key_.public_key, common::now_ms()}));
      next_heartbeat = Clock::now() + beat;
    }
    auto msg = common::receive_message(socket_, SocketRole::kDealer, std::chrono::milliseconds(200));
    if (!msg.ok()) {
      spdlog::warn("dropped a malformed message: {}", msg.error().message);
      continue;
    }
    if (!msg->has_value()) continue;
    auto& env = **msg;
    switch (env.type) {
      case MessageType::kRoundTask:
        handle_task(env);
        break;
      case MessageType::kUpdateAck:
        handle_ack(env);
        break;
      case MessageType::kShutdown: {
        auto s = common::decode<common::Shutdown>(env.header_bytes());
        spdlog::info("coordinator ended job '{}': {}", job_id_, s.ok() ? s->reason : "shutdown");
        return ok_status();
      }
      case MessageType::kError: {
        auto e = common::decode<common::ErrorMessage>(env.header_bytes());
        spdlog::warn("coordinator says: {}", e.ok() ? e->reason : "(malformed error)");
        if (e.ok() && e->reason.find("register") != std::string::npos) {
          FL_RETURN_IF_ERROR(register_with_coordinator());  // it restarted and forgot us
        }
        break;
      }
      default:
        spdlog::warn("ignoring unexpected {} message", common::to_string(env.type));
    }
  }
}

}  // namespace

Status run_worker(const WorkerOptions& options) {
  if (options.num_parts < 1 || options.part_index < 0 || options.part_index >= options.num_parts) {
    return make_error(ErrorCode::kInvalidArgument, "--partition " + std::to_string(options.part_index) + "/" +
                                                       std::to_string(options.num_parts) +
                                                       ": need 0 <= k < n");
  }
  FL_ASSIGN_OR_RETURN(auto key, common::load_key_file(options.key_file));
  FL_ASSIGN_OR_RETURN(auto device, models::choose_device(options.device));
  if (options.threads > 0) models::set_compute_threads(options.threads);
  if (options.attack.kind != AttackKind::kNone) {
    spdlog::warn("RESEARCH MODE: this worker mounts the '{}' attack", to_string(options.attack.kind));
  }
  FL_ASSIGN_OR_RETURN(auto local, load_local_data(options));
  WorkerSession session(options, std::move(key), std::move(local), device);
  return session.run();
}

}  // namespace fl::worker
