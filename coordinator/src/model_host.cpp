#include "fl/coordinator/model_host.hpp"

#include <torch/torch.h>

#include <chrono>

#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"
#include "fl/models/model_fit.hpp"
#include "fl/models/train.hpp"
#include "scoring/torch_validation.hpp"

namespace fl::coordinator {

namespace {

class TorchModelHost final : public ModelHost {
 public:
  TorchModelHost(std::unique_ptr<models::Model> model, models::Dataset test, std::int64_t limit,
                 std::unique_ptr<ValidationOracle> validation)
      : model_(std::move(model)),
        test_(std::move(test)),
        limit_(limit),
        initial_(model_->flat_parameters()),
        validation_(std::move(validation)) {}

  ValidationOracle* validation() override { return validation_.get(); }

  const common::TensorLayout& layout() const override { return model_->layout(); }
  std::vector<float> initial_parameters() const override { return initial_; }

  Result<EvalMetrics> evaluate(std::span<const float> parameters) override {
    const auto start = std::chrono::steady_clock::now();
    FL_RETURN_IF_ERROR(model_->set_flat_parameters(parameters));
    FL_ASSIGN_OR_RETURN(auto r, models::evaluate(*model_, test_, 1000, limit_ > 0 ? limit_ : -1));
    EvalMetrics m{r.loss, r.accuracy, r.num_samples,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
    return m;
  }

 private:
  std::unique_ptr<models::Model> model_;
  models::Dataset test_;
  std::int64_t limit_;
  std::vector<float> initial_;
  std::unique_ptr<ValidationOracle> validation_;
};

}  // namespace

Result<std::unique_ptr<ModelHost>> ModelHost::create(const std::string& model_spec, std::uint64_t seed,
                                                     const std::string& data,
                                                     std::int64_t eval_limit, const std::string& device,
                                                     const ValidationOptions& validation) {
  FL_ASSIGN_OR_RETURN(auto test, models::load_dataset(data, models::Split::kTest));
  FL_ASSIGN_OR_RETURN(auto model, models::make_model(model_spec, seed, models::input_of(test)));
  FL_ASSIGN_OR_RETURN(auto dev, models::choose_device(device));
  model->to(dev);
  // Refuse to start rather than fail every round: the workers would train the same model.
  if (auto fits = models::check_model_fits(*model, test); !fits.ok()) {
    return with_context(fits.error(), "job.model '" + model_spec + "' and data '" + data +
                                          "' do not fit together");
  }
  std::unique_ptr<ValidationOracle> oracle;
  if (validation.samples > 0) {
    auto [held_apart, rest] = split_validation(test, validation.samples);
    FL_ASSIGN_OR_RETURN(auto replica, models::make_model(model_spec, seed, models::input_of(held_apart)));
    replica->to(dev);
    oracle = make_validation_oracle(std::move(replica), std::move(held_apart), validation.training, seed);
    test = std::move(rest);
  }
  return std::unique_ptr<ModelHost>(
      new TorchModelHost(std::move(model), std::move(test), eval_limit, std::move(oracle)));
}

}  // namespace fl::coordinator
