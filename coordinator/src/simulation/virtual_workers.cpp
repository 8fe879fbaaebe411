#include "virtual_workers.hpp"

#include <algorithm>
#include "fl/common/dp_noise.hpp"

#include <atomic>
#include <chrono>
#include <thread>

#include "fl/common/training_settings.hpp"
#include "fl/common/update_attack.hpp"
#include "fl/coordinator/simulation/omniscient_attack.hpp"
#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"

namespace fl::coordinator {

namespace {

const std::string kPeerPrefix = "virtual-";

bool trains(ByzantineAttack attack) {
  switch (attack) {
    case ByzantineAttack::kGaussian:
    case ByzantineAttack::kAlie:
    case ByzantineAttack::kIpm:
    case ByzantineAttack::kZero:
    case ByzantineAttack::kNoise:
    case ByzantineAttack::kReplayGlobal:
    case ByzantineAttack::kReplayNoise:
      return false;
    default:
      return true;
  }
}

// SplitMix64 finaliser, for the Gaussian attack's per-worker noise streams.
std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

struct VirtualWorkers::Trained {
  std::vector<float> values;
  double loss = 0;
  std::int64_t samples = 0;
  double seconds = 0;
  std::string error;  // training failed: the worker reports a task error
};

VirtualWorkers::VirtualWorkers(const SweepConfig& config, ByzantineAttack attack, const SimulationData::Impl& data,
                               std::vector<VirtualWorker> workers,
                               std::vector<std::unique_ptr<models::Model>> replicas)
    : config_(config), attack_(attack), data_(data), workers_(std::move(workers)), replicas_(std::move(replicas)) {
  for (std::size_t id = 0; id < workers_.size(); ++id) {
    inbox_.push_back({kPeerPrefix + std::to_string(id), common::MessageType::kRegister,
                      SharedBytes::copy_of(common::encode(registration(static_cast<int>(id), nullptr))), {}, {}, {}});
  }
}

WorkerChannel::Received VirtualWorkers::receive(std::chrono::milliseconds) {
  if (inbox_.empty() && !pending_.empty()) answer_pending_tasks();
  Received out;
  if (!inbox_.empty()) {
    out.message = std::move(inbox_.front());
    inbox_.pop_front();
  }
  return out;
}

Status VirtualWorkers::send(const PeerId& peer, common::MessageType type, std::string_view header,
                            std::span<const std::uint8_t> payload) {
  const int id = std::stoi(peer.substr(kPeerPrefix.size()));
  if (type == common::MessageType::kRegisterAck) return answer_challenge(id, header);
  if (type != common::MessageType::kRoundTask) return ok_status();  // acks, receipts: nothing to do
  FL_ASSIGN_OR_RETURN(auto task, common::decode<common::RoundTask>(
                                     {reinterpret_cast<const std::uint8_t*>(header.data()), header.size()}));
  FL_ASSIGN_OR_RETURN(auto global, common::view_payload(task.layout, payload));
  if (pending_.empty() && (global_.size() != global.size() ||
                           !std::equal(global_.begin(), global_.end(), global.begin()))) {
    previous_global_ = std::move(global_);  // what a replaying free rider remembers
    global_.assign(global.begin(), global.end());
  }
  pending_[id] = std::move(task);
  return ok_status();
}

// The coordinator's first answer carries a challenge; the worker signs its registration over it,
// as fl-worker does.
Status VirtualWorkers::answer_challenge(int id, std::string_view header) {
  FL_ASSIGN_OR_RETURN(auto ack, common::decode<common::RegisterAck>(
                                    {reinterpret_cast<const std::uint8_t*>(header.data()), header.size()}));
  if (ack.accepted || ack.challenge == common::Digest{}) return ok_status();
  inbox_.push_back({kPeerPrefix + std::to_string(id), common::MessageType::kRegister,
                    SharedBytes::copy_of(common::encode(registration(id, &ack))), {}, {}, {}});
  return ok_status();
}

common::RegisterRequest VirtualWorkers::registration(int id, const common::RegisterAck* challenge) const {
  const auto& w = workers_[static_cast<std::size_t>(id)];
  common::RegisterRequest r;
  r.worker_key = w.key.public_key;
  r.num_samples = w.share.size();
  r.dataset_fingerprint = models::dataset_fingerprint(data_.train, w.share);
  r.device = "virtual";
  if (challenge) {
    r.job_id = challenge->job_id;
    r.coordinator_key = challenge->coordinator_key;
    r.challenge = challenge->challenge;
  }
  common::sign_registration(r, w.key.secret_key);
  return r;
}

// Trains every worker that trains, from global_, on the replicas' threads. Results depend on
// the task and the worker's key only, not on the thread.
std::vector<VirtualWorkers::Trained> VirtualWorkers::train(const common::RoundTask& task, std::span<const int> ids) {
  std::vector<Trained> out(ids.size());
  std::atomic<std::size_t> next{0};
  auto work = [&](std::size_t t) {
    models::set_compute_threads(1);
    auto& model = *replicas_[t];
    for (std::size_t i = next++; i < ids.size(); i = next++) {
      const auto& w = workers_[static_cast<std::size_t>(ids[i])];
      if (w.byzantine && !trains(attack_)) continue;
      (void)model.set_flat_parameters(global_);  // same layout by construction
      const auto options =
          models::train_options(task.training, common::local_training_seed(task.seed, w.key.public_key));
      const bool flip = w.byzantine && attack_ == ByzantineAttack::kLabelFlip;
      std::span<const std::int64_t> share = w.share;
      if (w.byzantine && attack_ == ByzantineAttack::kLazy) {
        share = share.first(common::lazy_examples(config_.attack.lazy_fraction, share.size()));
      }
      auto result = models::train_local(model, flip ? data_.train_flipped : data_.train, share, options);
      if (!result.ok()) {
        out[i].error = result.error().message;
        continue;
      }
      out[i].values = model.flat_parameters();
      for (std::size_t j = 0; j < out[i].values.size(); ++j) out[i].values[j] -= global_[j];
      out[i].loss = result->mean_loss;
      out[i].samples = result->num_samples;
      out[i].seconds = result->seconds;
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < replicas_.size(); ++t) threads.emplace_back(work, t);
  work(0);
  for (auto& th : threads) th.join();
  return out;
}

void VirtualWorkers::answer_pending_tasks() {
  std::vector<int> ids;
  for (const auto& [id, task] : pending_) ids.push_back(id);
  const auto& task = pending_.begin()->second;
  auto trained = train(task, ids);

  // Byzantine workers replace their update by the attack.
  std::vector<std::span<const float>> honest;
  int f = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (workers_[static_cast<std::size_t>(ids[i])].byzantine) ++f;
    else if (trained[i].error.empty()) honest.push_back(trained[i].values);
  }
  const int n = static_cast<int>(ids.size());
  Result<std::vector<float>> omniscient = std::vector<float>{};
  if (f > 0 && attack_ == ByzantineAttack::kAlie) {
    double z = config_.attack.alie_z;
    if (config_.attack.alie_z_from_formula) {
      auto threshold = alie_threshold(n, f);
      z = threshold.ok() ? threshold->z : 0.0;
    }
    omniscient = alie_update(honest, z);
  } else if (f > 0 && attack_ == ByzantineAttack::kIpm) {
    omniscient = ipm_update(honest, config_.attack.ipm_epsilon);
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& w = workers_[static_cast<std::size_t>(ids[i])];
    auto& u = trained[i];
    if (w.byzantine) {
      switch (attack_) {
        case ByzantineAttack::kNone:
        case ByzantineAttack::kLabelFlip:
          break;
        case ByzantineAttack::kSignFlip:
          common::scale_update(u.values, config_.attack.sign_flip_scale);
          break;
        case ByzantineAttack::kScaled:
          common::scale_update(u.values, config_.attack.scaled_factor);
          break;
        case ByzantineAttack::kGaussian:
          u.values.assign(global_.size(), 0.0f);
          common::gaussian_update(u.values, config_.attack.gaussian_sigma,
                                  mix(config_.seed, 5000 + static_cast<std::uint64_t>(ids[i])), task.round);
          break;
        case ByzantineAttack::kAlie:
        case ByzantineAttack::kIpm:
          if (omniscient.ok()) u.values = *omniscient;
          else u.error = omniscient.error().message;
          break;
        case ByzantineAttack::kZero:
        case ByzantineAttack::kNoise:
        case ByzantineAttack::kReplayGlobal:
        case ByzantineAttack::kReplayNoise: {
          const bool replay = attack_ == ByzantineAttack::kReplayGlobal || attack_ == ByzantineAttack::kReplayNoise;
          const bool noise = attack_ == ByzantineAttack::kNoise || attack_ == ByzantineAttack::kReplayNoise;
          u.values = common::free_rider_delta(replay, noise ? config_.attack.free_rider_sigma : 0.0,
                                              mix(config_.seed, 6000 + static_cast<std::uint64_t>(ids[i])),
                                              task.round, global_, previous_global_);
          break;
        }
        case ByzantineAttack::kLazy:  // claims its whole share below
          u.samples = 0;
          break;
        case ByzantineAttack::kInflateSamples:
          u.samples = static_cast<std::int64_t>(config_.attack.claimed_samples);
          break;
        case ByzantineAttack::kSybil:  // honest training; the strategy is in the keys and shares
        case ByzantineAttack::kRich:
          break;
      }
      if (u.samples == 0) u.samples = static_cast<std::int64_t>(w.share.size()) * task.training.epochs;
    } else {
      // Distributed DP: an honest worker clips and adds its noise share, as fl-worker does.
      common::privatize_local_update(u.values, task.privacy,
                                     mix(mix(config_.seed, 9000 + static_cast<std::uint64_t>(ids[i])), task.round));
    }
    push_update(ids[i], task, std::move(u));
  }
  pending_.clear();
}

void VirtualWorkers::push_update(int id, const common::RoundTask& task, Trained&& trained) {
  const auto& w = workers_[static_cast<std::size_t>(id)];
  const PeerId peer = kPeerPrefix + std::to_string(id);
  if (!trained.error.empty()) {
    inbox_.push_back({peer, common::MessageType::kTaskError,
                      SharedBytes::copy_of(common::encode(common::TaskError{task.job_id, task.round, trained.error})),
                      {}, {}, {}});
    return;
  }
  auto values = std::make_shared<std::vector<float>>(std::move(trained.values));
  const auto bytes = common::as_bytes(*values);
  common::UpdateHeader h;
  h.job_id = task.job_id;
  h.round = task.round;
  h.worker_key = w.key.public_key;
  h.base_model_digest = task.model_digest;
  h.layout = task.layout;
  h.payload_digest = common::blake2b_256(bytes);
  h.num_samples = static_cast<std::uint64_t>(trained.samples);
  h.train_loss = static_cast<float>(trained.loss);
  h.train_seconds = trained.seconds;
  common::sign_update(h, w.key.secret_key);
  inbox_.push_back({peer, common::MessageType::kUpdate, SharedBytes::copy_of(common::encode(h)),
                    SharedBytes{values, bytes}, {}, {}});
}

}  // namespace fl::coordinator
