// The simulator's worker channel: N virtual workers in this process. They register like real
// workers, and when the round engine sends them a round task they train on their share (on a
// few threads, one model replica each), the Byzantine ones attack, and each answers with a
// signed update, so `simulate` runs the very engine `fl-coordinator run` does; only the
// channel differs. Training seeds come from the task and the worker's key, as in fl-worker.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/coordinator/simulation/simulator.hpp"
#include "fl/coordinator/worker_channel.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"

namespace fl::coordinator {

struct SimulationData::Impl {
  models::Dataset train;
  models::Dataset train_flipped;  // same images, labels y -> C-1-y (label-flipping attackers)
  models::Dataset test;
  std::vector<std::int64_t> train_labels;
};

struct VirtualWorker {
  common::KeyPair key;
  std::vector<std::int64_t> share;  // indices into the training set
  bool byzantine = false;
};

class VirtualWorkers final : public WorkerChannel {
 public:
  VirtualWorkers(const SweepConfig& config, ByzantineAttack attack, const SimulationData::Impl& data,
                 std::vector<VirtualWorker> workers, std::vector<std::unique_ptr<models::Model>> replicas);

  Received receive(std::chrono::milliseconds timeout) override;
  Status send(const PeerId& peer, common::MessageType type, std::string_view header,
              std::span<const std::uint8_t> payload) override;

 private:
  struct Trained;
  common::RegisterRequest registration(int id, const common::RegisterAck* challenge) const;
  Status answer_challenge(int id, std::string_view header);
  void answer_pending_tasks();
  std::vector<Trained> train(const common::RoundTask& task, std::span<const int> ids);
  void push_update(int id, const common::RoundTask& task, Trained&& trained);

  const SweepConfig& config_;
  ByzantineAttack attack_;
  const SimulationData::Impl& data_;
  std::vector<VirtualWorker> workers_;
  std::vector<std::unique_ptr<models::Model>> replicas_;
  std::map<int, common::RoundTask> pending_;  // by worker id
  std::vector<float> global_;                  // the pending tasks' model
  std::vector<float> previous_global_;         // the model of the round before (free riders)
  std::deque<InboundMessage> inbox_;
};

}  // namespace fl::coordinator
