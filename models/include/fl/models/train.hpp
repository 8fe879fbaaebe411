// Local training and evaluation: plain minibatch SGD with cross-entropy, as in FedAvg
// (McMahan et al. 2017). Batches are cut from the pre-loaded dataset with index_select, the
// data moves to the model's device once per call, and on CPU a seed fixes the result.
// Thread count is the caller's choice (torch::set_num_threads); nothing here changes it.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "fl/common/training_settings.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"

namespace fl::models {

// The hyper-parameters are common::TrainingSettings (one type from config to wire to here);
// what is local to one call is added: the seed and a progress callback.
struct TrainOptions : common::TrainingSettings {
  std::uint64_t seed = 0;  // shuffling order (and any randomness in the model)
  std::function<void(int epoch, std::int64_t step, double loss)> on_progress;  // every step
};

struct TrainResult {
  double mean_loss = 0;          // mean training loss over the examples seen
  std::int64_t num_samples = 0;  // examples seen (counting repeats over epochs)
  std::int64_t steps = 0;
  double seconds = 0;
};

// Options for one call: the settings, plus the call's seed.
inline TrainOptions train_options(const common::TrainingSettings& settings, std::uint64_t seed) {
  TrainOptions options;
  static_cast<common::TrainingSettings&>(options) = settings;
  options.seed = seed;
  return options;
}

// Trains `model` in place on data[indices]. An empty index list trains nothing. Never throws:
// a libtorch failure (a model that does not fit the data, out of memory) is returned as an
// error naming the model and the data shape; the model may then be partly trained.
Result<TrainResult> train_local(Model& model, const Dataset& data, std::span<const std::int64_t> indices,
                        const TrainOptions& options);

struct EvalResult {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // in [0, 1]
  std::int64_t num_samples = 0;
};

// Evaluates on the first `limit` examples (all when -1), without gradients, in eval mode;
// leaves the model in training mode. Never throws (see train_local).
Result<EvalResult> evaluate(Model& model, const Dataset& data, std::int64_t batch_size = 1000,
                    std::int64_t limit = -1);

// The model's logits on every example of `data`, without gradients, in eval mode: examples x
// classes row-major floats on the CPU. Leaves the model in training mode. Never throws.
Result<std::vector<float>> predict_logits(Model& model, const Dataset& data, std::int64_t batch_size = 1000);

}  // namespace fl::models
