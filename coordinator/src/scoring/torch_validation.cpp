#include "torch_validation.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"

namespace fl::coordinator {

namespace {

models::Dataset slice(const models::Dataset& d, std::int64_t begin, std::int64_t count) {
  models::Dataset out = d;
  out.images = d.images.narrow(0, begin, count);
  out.labels = d.labels.narrow(0, begin, count);
  return out;
}

class TorchValidationOracle final : public ValidationOracle {
 public:
  TorchValidationOracle(std::unique_ptr<models::Model> model, models::Dataset validation,
                        common::TrainingSettings training, std::uint64_t seed, int threads)
      : model_(std::move(model)),
        data_(std::move(validation)),
        training_(training),
        seed_(seed),
        threads_(threads),
        indices_(static_cast<std::size_t>(data_.size())) {
    std::iota(indices_.begin(), indices_.end(), 0);
  }

  std::int64_t size() const override { return data_.size(); }

  Result<ValidationMetrics> measure(std::span<const float> parameters) override {
    if (threads_ > 0) models::set_compute_threads(threads_);
    FL_RETURN_IF_ERROR(model_->set_flat_parameters(parameters));
    FL_ASSIGN_OR_RETURN(auto r, models::evaluate(*model_, data_, 1000));
    return ValidationMetrics{r.accuracy, r.loss};
  }

  Result<std::vector<float>> reference_update(std::span<const float> global,
                                              std::uint64_t round) override {
    // A round asks for it twice when updates are rescaled to its norm (close_round) and fltrust
    // scores against it: the same global model and round train the same reference.
    if (last_round_ == round && std::ranges::equal(last_global_, global)) return last_reference_;
    if (threads_ > 0) models::set_compute_threads(threads_);
    FL_RETURN_IF_ERROR(model_->set_flat_parameters(global));
    const auto options = models::train_options(training_, seed_ * 1'000'003 + round);
    if (auto trained = models::train_local(*model_, data_, indices_, options); !trained.ok()) {
      return with_context(trained.error(), "the validation set's reference update");
    }
    auto trained = model_->flat_parameters();
    for (std::size_t k = 0; k < trained.size(); ++k) trained[k] -= global[k];
    last_round_ = round;
    last_global_.assign(global.begin(), global.end());
    last_reference_ = trained;
    return trained;
  }

 private:
  std::unique_ptr<models::Model> model_;
  models::Dataset data_;
  common::TrainingSettings training_;
  std::uint64_t seed_;
  int threads_;
  std::vector<std::int64_t> indices_;
  std::optional<std::uint64_t> last_round_;  // the last reference trained, and for what
  std::vector<float> last_global_, last_reference_;
};

}  // namespace

std::pair<models::Dataset, models::Dataset> split_validation(const models::Dataset& test,
                                                             std::int64_t n) {
  n = std::clamp<std::int64_t>(n, 0, test.size() / 2);
  return {slice(test, test.size() - n, n), slice(test, 0, test.size() - n)};
}

std::unique_ptr<ValidationOracle> make_validation_oracle(std::unique_ptr<models::Model> model,
                                                         models::Dataset validation,
                                                         common::TrainingSettings training,
                                                         std::uint64_t seed, int threads) {
  return std::make_unique<TorchValidationOracle>(std::move(model), std::move(validation), training,
                                                 seed, threads);
}

}  // namespace fl::coordinator
