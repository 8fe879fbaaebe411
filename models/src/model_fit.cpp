#include "fl/models/model_fit.hpp"

#include <c10/util/Exception.h>

#include <numeric>

namespace fl::models {
namespace {

constexpr std::int64_t kProbeExamples = 2;  // 2, not 1: BatchNorm-like layers refuse batch 1

std::int64_t values_per_example(const std::vector<std::int64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

// What the model's first layer expects, read from its first weight: a Linear weight is
// [out, in] (in values per example), a Conv2d weight [out, channels, kh, kw].
std::string expected_input(const Model& model, const Dataset& data) {
  const auto& tensors = model.layout().tensors;
  const std::string shape = describe_shape(data.input_shape);
  const std::string got = " but the data has " + shape + " (" +
                          std::to_string(values_per_example(data.input_shape)) + " values)";
  if (tensors.empty()) return "";
  const auto& first = tensors.front().shape;
  if (first.size() == 2 && first[1] != values_per_example(data.input_shape)) {
    return "model '" + model.spec() + "' expects inputs of " + std::to_string(first[1]) +
           " values per example" + got;
  }
  if (first.size() == 4 && !data.input_shape.empty() && first[1] != data.input_shape.front()) {
    return "model '" + model.spec() + "' expects inputs with " + std::to_string(first[1]) +
           " channels" + got;
  }
  return "";
}

Status does_not_fit(const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, what);
}

}  // namespace

ModelInput input_of(const Dataset& data) { return ModelInput{data.input_shape, data.num_classes}; }

std::string exception_summary(const std::exception& e) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
  std::string what = torch_error ? torch_error->what_without_backtrace() : e.what();
  if (const auto eol = what.find('\n'); eol != std::string::npos) what.resize(eol);
  return what;
}

Status check_model_fits(Model& model, const Dataset& data) {
  const std::string remedy = "; use a model for this input shape or other data";
  if (data.size() == 0) {
    return does_not_fit("the data has no examples to check model '" + model.spec() + "' against");
  }
  torch::Tensor logits;
  try {
    torch::NoGradGuard no_grad;
    const auto batch = data.images.narrow(0, 0, std::min(kProbeExamples, data.size()));
    model.train(false);
    logits = model.forward(batch.to(model.device()));
    model.train(true);
  } catch (const std::exception& e) {
    model.train(true);
    if (auto known = expected_input(model, data); !known.empty())
      return does_not_fit(known + remedy);
    return does_not_fit("model '" + model.spec() + "' cannot run on inputs of shape " +
                        describe_shape(data.input_shape) + ": " + exception_summary(e) + remedy);
  }
  const std::int64_t n = std::min(kProbeExamples, data.size());
  if (logits.dim() != 2 || logits.size(0) != n || !logits.is_floating_point()) {
    return does_not_fit("model '" + model.spec() + "' returns " +
                        describe_shape(logits.sizes().vec()) + " for " + std::to_string(n) +
                        " examples; it must return float logits [N, classes]");
  }
  if (logits.size(1) != data.num_classes) {
    return does_not_fit("model '" + model.spec() + "' has " + std::to_string(logits.size(1)) +
                        " outputs but the data has " + std::to_string(data.num_classes) +
                        " classes; use a model with " + std::to_string(data.num_classes) +
                        " outputs or other data");
  }
  return ok_status();
}

}  // namespace fl::models
