#include "fl/models/model.hpp"

#include "fl/models/dataset.hpp"

#include <torch/script.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace fl::models {
namespace {

std::int64_t values_per_example(const ModelInput& input) {
  std::int64_t n = 1;
  for (const auto d : input.shape) n *= d;
  return n;
}

// McMahan et al. 2017 "2NN": two hidden layers of 200 units with ReLU.
struct MlpImpl : torch::nn::Module {
  explicit MlpImpl(const ModelInput& in)
      : fc1(register_module("fc1", torch::nn::Linear(values_per_example(in), 200))),
        fc2(register_module("fc2", torch::nn::Linear(200, 200))),
        fc3(register_module("fc3", torch::nn::Linear(200, in.num_classes))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::relu(fc1->forward(x.flatten(1)));
    h = torch::relu(fc2->forward(h));
    return fc3->forward(h);
  }
  torch::nn::Linear fc1, fc2, fc3;
};

// Multinomial logistic regression: softmax over one linear map (the loss adds the softmax).
struct LogRegImpl : torch::nn::Module {
  explicit LogRegImpl(const ModelInput& in)
      : fc(register_module("fc", torch::nn::Linear(values_per_example(in), in.num_classes))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc->forward(x.flatten(1)); }
  torch::nn::Linear fc;
};

// McMahan et al. 2017 CNN: two 5x5 conv layers (32, 64 channels) each followed by 2x2 max
// pooling, a 512-unit fully connected layer with ReLU, and a linear output layer.
struct CnnImpl : torch::nn::Module {
  explicit CnnImpl(const ModelInput& in)
      : conv1(register_module(
            "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in.shape[0], 32, 5).padding(2)))),
        conv2(register_module("conv2",
                              torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 5).padding(2)))),
        fc1(register_module("fc1",
                            torch::nn::Linear(64 * (in.shape[1] / 4) * (in.shape[2] / 4), 512))),
        fc2(register_module("fc2", torch::nn::Linear(512, in.num_classes))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto h = torch::max_pool2d(torch::relu(conv1->forward(x)), 2);
    h = torch::max_pool2d(torch::relu(conv2->forward(h)), 2);
    h = torch::relu(fc1->forward(h.flatten(1)));
    return fc2->forward(h);
  }
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2;
};

// Re-draws every parameter from a generator seeded for this model, with PyTorch's default
// scheme for Linear/Conv (kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
// weights, the same bound for biases), without touching torch's global generator.
void seeded_init(torch::nn::Module& module, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& child : module.modules(/*include_self=*/false)) {
    auto params = child->named_parameters(/*recurse=*/false);
    if (!params.contains("weight")) continue;
    const auto& weight = params["weight"];
    const double fan_in = static_cast<double>(weight.numel() / weight.size(0));
    const double bound = 1.0 / std::sqrt(fan_in);
    weight.uniform_(-bound, bound, generator);
    if (params.contains("bias")) params["bias"].uniform_(-bound, bound, generator);
  }
}

template <typename Impl>
class ZooModel final : public Model {
 public:
  ZooModel(std::string spec, std::uint64_t seed, const ModelInput& input)
      : Model(std::move(spec)), module_(std::make_shared<Impl>(input)) {
    seeded_init(*module_, seed);
    collect();
  }
  torch::Tensor forward(const torch::Tensor& x) override { return module_->forward(x); }
  void train(bool on) override { module_->train(on); }

 protected:
  void move_module(torch::Device device) override {
    module_->to(device);
    collect();
  }

 private:
  void collect() {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& item : module_->named_parameters()) named.emplace_back(item.key(), item.value());
    adopt_parameters(std::move(named));
  }
  std::shared_ptr<Impl> module_;
};

class ScriptModel final : public Model {
 public:
  ScriptModel(std::string spec, torch::jit::Module module)
      : Model(std::move(spec)), module_(std::move(module)) {
    collect();
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    inputs_.clear();
    inputs_.emplace_back(x);
    return module_.forward(inputs_).toTensor();
  }
  void train(bool on) override { module_.train(on); }

 protected:
  void move_module(torch::Device device) override {
    module_.to(device);
    collect();
  }

 private:
  void collect() {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& item : module_.named_parameters(/*recurse=*/true)) {
      named.emplace_back(item.name, item.value);
    }
    adopt_parameters(std::move(named));
  }
  torch::jit::Module module_;
  std::vector<torch::jit::IValue> inputs_;
};

Result<std::unique_ptr<Model>> load_torchscript(std::string spec, const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return make_error(ErrorCode::kNotFound, "model " + spec + ": file " + path + " does not exist");
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (const auto eol = what.find('\n'); eol != std::string::npos) what.resize(eol);
    return make_error(ErrorCode::kCorrupt,
                      "model " + spec + ": cannot load TorchScript file " + path + ": " + what);
  }
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    if (item.value.scalar_type() != torch::kFloat32) {
      return make_error(ErrorCode::kInvalidArgument,
                        "model " + spec + ": parameter " + item.name + " is " +
                            std::string(c10::toString(item.value.scalar_type())) +
                            ", only float32 parameters are supported");
    }
  }
  // Buffers (BatchNorm's running mean/var) are state outside the parameters: each worker's
  // would drift from the global model's, which only federates parameters. Refused, not
  // silently diverging.
  const auto buffers = module.named_buffers(/*recurse=*/true);
  if (buffers.begin() != buffers.end()) {
    const auto item = *buffers.begin();
    return make_error(ErrorCode::kInvalidArgument,
                      "model " + spec + ": buffer '" + item.name +
                          "' (e.g. BatchNorm running statistics) is not supported; FedLedger "
                          "federates parameters only. Export the model without buffers, e.g. "
                          "GroupNorm or LayerNorm instead of BatchNorm, or BatchNorm with "
                          "track_running_stats=False");
  }
  auto model = std::make_unique<ScriptModel>(std::move(spec), std::move(module));
  if (model->num_parameters() == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "model " + model->spec() + ": TorchScript module has no parameters");
  }
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace

std::vector<float> Model::flat_parameters() const {
  std::vector<float> flat(static_cast<std::size_t>(num_parameters()));
  std::size_t offset = 0;
  for (const auto& p : params_) {
    const auto cpu = p.detach().to(torch::kCPU).contiguous();
    std::memcpy(flat.data() + offset, cpu.data_ptr<float>(), cpu.numel() * sizeof(float));
    offset += static_cast<std::size_t>(cpu.numel());
  }
  return flat;
}

Status Model::set_flat_parameters(std::span<const float> values) {
  if (static_cast<std::int64_t>(values.size()) != num_parameters()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "model " + spec_ + ": flat parameters have " + std::to_string(values.size()) +
                          " values, the layout needs " + std::to_string(num_parameters()));
  }
  torch::NoGradGuard no_grad;
  std::size_t offset = 0;
  for (auto& p : params_) {
    // from_blob only reads here: copy_ never writes to its source.
    const auto source = torch::from_blob(const_cast<float*>(values.data() + offset), p.sizes(),
                                         torch::kFloat32);
    p.copy_(source);
    offset += static_cast<std::size_t>(p.numel());
  }
  return ok_status();
}

void Model::to(torch::Device device) {
  move_module(device);
  device_ = device;
}

void Model::adopt_parameters(std::vector<std::pair<std::string, torch::Tensor>> named) {
  layout_.tensors.clear();
  params_.clear();
  for (auto& [name, tensor] : named) {
    common::TensorSpec spec;
    spec.name = name;
    spec.shape.assign(tensor.sizes().begin(), tensor.sizes().end());
    layout_.tensors.push_back(std::move(spec));
    params_.push_back(tensor);
  }
}

Result<std::unique_ptr<Model>> make_model(std::string_view spec, std::uint64_t seed,
                                          const ModelInput& input) {
  constexpr std::string_view kScriptPrefix = "torchscript:";
  if (spec.starts_with(kScriptPrefix) && spec.size() > kScriptPrefix.size()) {
    return load_torchscript(std::string(spec), std::string(spec.substr(kScriptPrefix.size())));
  }
  const auto unfit = [&](const std::string& problem) {
    return make_error(ErrorCode::kInvalidArgument,
                      "model \"" + std::string(spec) + "\" for input " +
                          describe_shape(input.shape) + " and " +
                          std::to_string(input.num_classes) + " classes: " + problem);
  };
  if (spec == "mlp" || spec == "cnn" || spec == "logreg") {
    if (input.num_classes < 1) return unfit("the data has no classes");
    if (input.shape.empty() || values_per_example(input) < 1) return unfit("empty input shape");
  }
  if (spec == "mlp") {
    return std::unique_ptr<Model>(std::make_unique<ZooModel<MlpImpl>>("mlp", seed, input));
  }
  if (spec == "logreg") {
    return std::unique_ptr<Model>(std::make_unique<ZooModel<LogRegImpl>>("logreg", seed, input));
  }
  if (spec == "cnn") {
    if (input.shape.size() != 3 || input.shape[1] < 4 || input.shape[2] < 4) {
      return unfit("cnn needs image input [channels, height, width] of at least 4x4; use mlp or "
                   "logreg for tabular data");
    }
    return std::unique_ptr<Model>(std::make_unique<ZooModel<CnnImpl>>("cnn", seed, input));
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "model \"" + std::string(spec) + "\": unknown; expected " + kModelSpecs);
}

Result<std::unique_ptr<Model>> make_model(std::string_view spec, std::uint64_t seed) {
  return make_model(spec, seed, ModelInput{});
}

Result<torch::Device> choose_device(std::string_view request) {
  const auto no_cuda = [&] {
    return make_error(ErrorCode::kUnavailable,
                      "device \"" + std::string(request) +
                          "\": CUDA requested but not available (libtorch built without CUDA "
                          "or no GPU); use \"cpu\" or \"auto\"");
  };
  if (request == "auto") {
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  if (request == "cpu") return torch::Device(torch::kCPU);
  if (request == "cuda") {
    if (!torch::cuda::is_available()) return no_cuda();
    return torch::Device(torch::kCUDA, 0);
  }
  if (request.starts_with("cuda:")) {
    const std::string_view digits = request.substr(5);
    int index = -1;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || ptr != digits.data() + digits.size() || index < 0 || index > 255) {
      return make_error(ErrorCode::kInvalidArgument,
                        "device \"" + std::string(request) + "\": bad CUDA device index");
    }
    if (!torch::cuda::is_available()) return no_cuda();
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index >= count) {
      return make_error(ErrorCode::kUnavailable,
                        "device \"" + std::string(request) + "\": only " + std::to_string(count) +
                            " CUDA device(s) present");
    }
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "device \"" + std::string(request) +
                        "\": unknown; expected auto, cpu, cuda or cuda:<index>");
}

}  // namespace fl::models
