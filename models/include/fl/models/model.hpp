// A trainable model as the rest of FedLedger sees it: a named layout of float32 parameters
// that can be flattened to, and loaded from, one contiguous vector (the wire format), plus
// forward/train/device for local training. Models come from a small zoo by name ("mlp",
// "cnn", "logreg") or from a TorchScript file a researcher exported from Python.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/common/tensor_codec.hpp"

namespace fl::models {

class Model {
 public:
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Parameter names and shapes in a fixed order (the module's registration order).
  const common::TensorLayout& layout() const { return layout_; }
  std::int64_t num_parameters() const { return layout_.numel(); }
  // All parameters, in layout order, copied to one CPU float vector.
  std::vector<float> flat_parameters() const;
  // The inverse of flat_parameters(); kInvalidArgument when the size differs from the layout.
  Status set_flat_parameters(std::span<const float> values);

  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  std::vector<torch::Tensor> parameters() { return params_; }
  virtual void train(bool on) = 0;
  void to(torch::Device device);
  torch::Device device() const { return device_; }
  const std::string& spec() const { return spec_; }

 protected:
  explicit Model(std::string spec) : spec_(std::move(spec)) {}
  // Called by subclasses once the module exists and whenever parameters move devices.
  void adopt_parameters(std::vector<std::pair<std::string, torch::Tensor>> named);
  virtual void move_module(torch::Device device) = 0;

 private:
  std::string spec_;
  common::TensorLayout layout_;
  std::vector<torch::Tensor> params_;
  torch::Device device_{torch::kCPU};
};

// What a zoo model is built for: one example's shape and the number of classes, from the data
// (input_of) so mlp and cnn adapt to it.
struct ModelInput {
  std::vector<std::int64_t> shape = {1, 28, 28};
  int num_classes = 10;
};

// "mlp": in-200-200-classes with ReLU (McMahan et al. 2017, "2NN"; 199,210 parameters for
//        [1,28,28] and 10 classes). Any input shape: it flattens each example (tables too).
// "cnn": 5x5 conv 32, 2x2 max-pool, 5x5 conv 64, 2x2 max-pool, fc 512, fc classes (McMahan et
//        al. 2017 CNN, "same" padding; 1,663,370 parameters for [1,28,28]/10). Image input
//        [C, H, W] with H, W >= 4.
// "logreg": multinomial logistic regression, one linear layer in -> classes (tabular data).
// "torchscript:<path>": a module saved with torch.jit.save; it must take [N, ...input shape]
//        float32 and return [N, classes] logits (check_model_fits), have float32 parameters
//        and no buffers (BatchNorm running statistics are refused: only parameters are
//        federated). A file that does not load is an error, never an exception. `input` is
//        not used: the file fixes the shapes.
// The same spec, input and seed give the same initial parameters.
Result<std::unique_ptr<Model>> make_model(std::string_view spec, std::uint64_t seed,
                                          const ModelInput& input);
// The same for Fashion-MNIST's input, [1,28,28] with 10 classes.
Result<std::unique_ptr<Model>> make_model(std::string_view spec, std::uint64_t seed);

// The zoo names, for help text: "mlp, cnn, logreg or torchscript:<path to .pt>".
inline constexpr const char* kModelSpecs = "mlp, cnn, logreg or torchscript:<path to .pt>";

// "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:N".
Result<torch::Device> choose_device(std::string_view request);

}  // namespace fl::models
