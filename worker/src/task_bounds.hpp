// The worker's limits on what a round task may ask (epochs, batch size, learning rate, model
// size). Private to fl_worker.
#pragma once

#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/worker/worker.hpp"

namespace fl::worker {

// kLimitExceeded naming the first bound the task breaks and the flag that sets it.
inline Status check_task_bounds(const common::RoundTask& task, const TaskBounds& bounds) {
  const auto over = [](const std::string& what, const std::string& asked, const std::string& limit,
                       const char* flag) {
    return make_error(ErrorCode::kLimitExceeded, "the task asks for " + what + " " + asked +
                                                     "; this worker allows at most " + limit +
                                                     " (" + flag + ")");
  };
  const auto& t = task.training;
  if (t.epochs > bounds.max_epochs) {
    return over("epochs", std::to_string(t.epochs), std::to_string(bounds.max_epochs),
                "--max-epochs");
  }
  if (t.batch_size > bounds.max_batch_size) {
    return over("batch size", std::to_string(t.batch_size), std::to_string(bounds.max_batch_size),
                "--max-batch-size");
  }
  if (!(t.learning_rate <= bounds.max_learning_rate)) {
    return over("learning rate", std::to_string(t.learning_rate),
                std::to_string(bounds.max_learning_rate), "--max-learning-rate");
  }
  if (task.layout.numel() > bounds.max_model_parameters) {
    return over("a model of", std::to_string(task.layout.numel()) + " parameters",
                std::to_string(bounds.max_model_parameters), "--max-model-parameters");
  }
  const auto& p = task.privacy;
  if (p.enabled() && p.min_workers > bounds.max_dp_workers) {
    return over("its DP noise split over", std::to_string(p.min_workers) + " workers",
                std::to_string(bounds.max_dp_workers), "--max-dp-workers");
  }
  if (p.enabled() && p.noise_multiplier < bounds.min_noise_multiplier) {
    return make_error(ErrorCode::kLimitExceeded,
                      "the task asks for DP noise multiplier " + std::to_string(p.noise_multiplier) +
                          "; this worker requires at least " +
                          std::to_string(bounds.min_noise_multiplier) + " (--min-noise-multiplier)");
  }
  return ok_status();
}

}  // namespace fl::worker
