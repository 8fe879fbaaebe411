// The coordinator's copy of the model: its layout, the seeded initial parameters, and evaluation
// of any parameter vector on the test set. The only coordinator unit that sees torch; its header
// stays torch-free so the rest of the coordinator compiles fast.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/common/tensor_codec.hpp"
#include "fl/common/training_settings.hpp"
#include "fl/coordinator/scoring/validation.hpp"

namespace fl::coordinator {

struct EvalMetrics {
  double loss = 0;
  double accuracy = 0;
  std::int64_t num_samples = 0;
  double seconds = 0;
};

// Evaluates a parameter vector of the job's model (the round engine's view of evaluation).
class ModelEvaluator {
 public:
  virtual ~ModelEvaluator() = default;
  virtual Result<EvalMetrics> evaluate(std::span<const float> parameters) = 0;
};

// The validation set a scorer measures against (scoring/validation.hpp): the last `samples`
// examples of the test split, which evaluation then leaves out. 0: none.
struct ValidationOptions {
  std::int64_t samples = 0;
  common::TrainingSettings training;  // the round task's settings, for FLTrust's reference
};

class ModelHost : public ModelEvaluator {
 public:
  // data: a dataset spec (models::load_dataset); the model is built for its test split's input
  // shape and class count. eval_limit 0: the whole test split. device: "auto", "cpu", "cuda",
  // "cuda:N".
  static Result<std::unique_ptr<ModelHost>> create(const std::string& model_spec, std::uint64_t seed,
                                                   const std::string& data,
                                                   std::int64_t eval_limit, const std::string& device,
                                                   const ValidationOptions& validation = {});
  virtual ~ModelHost() = default;
  virtual const common::TensorLayout& layout() const = 0;
  virtual std::vector<float> initial_parameters() const = 0;
  // The coordinator's validation set; nullptr when created without one.
  virtual ValidationOracle* validation() = 0;
};

}  // namespace fl::coordinator
