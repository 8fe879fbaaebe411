// The hyper-parameters of local training, as a job's or a sweep's [training] section gives them
// and as the coordinator sends them to workers in every RoundTask. One type, one reader, one set
// of bounds: a new hyper-parameter is a field here, a row in training_settings.cpp, its wire
// encoding in wire.cpp and its use in models/src/train.cpp (models::TrainOptions holds these).
#pragma once

#include <cstdint>

#include "fl/common/config_table.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

struct TrainingSettings {
  int epochs = 1;
  int batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.0;
  double weight_decay = 0.0;
  std::int64_t max_steps = -1;  // stop after this many optimizer steps (-1: no limit)

  bool operator==(const TrainingSettings&) const = default;
};

// Reads [training]'s keys (epochs, batch_size, learning_rate, momentum, weight_decay,
// max_steps); absent keys keep the values already in `out`. Errors name the file and key.
Status read_training_settings(const ConfigTable& section, TrainingSettings& out);

// The same bounds for settings that did not come from a file (a decoded RoundTask).
Status check_training_settings(const TrainingSettings& settings);

// The seed a worker trains a round with: from the round task's seed and the worker's key, so a
// real worker and the simulator's virtual worker with the same key train identically.
std::uint64_t local_training_seed(std::uint64_t task_seed, const PublicKey& worker);

}  // namespace fl::common
