// A trainable model as the rest of FedLedger sees it: a named layout of float32 parameters
// that can be flattened to, and loaded from, one contiguous vector (the wire format), plus
// forward/train/device for local training. Models come from a small zoo by name ("mlp",
// "cnn") or from a TorchScript file a researcher exported from Python.
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

// "mlp": 784-200-200-10 with ReLU (McMahan et al. 2017, "2NN", 199,210 parameters).
// "cnn": 5x5 conv 32, 2x2 max-pool, 5x5 conv 64, 2x2 max-pool, fc 512, fc 10 (McMahan et al.
//        2017 CNN, "same" padding, 1,663,370 parameters).
// "torchscript:<path>": a module saved with torch.jit.save; it must take [N, ...input shape]
//        float32 and return [N, classes] logits (check_model_fits), have float32 parameters
//        and no buffers (BatchNorm running statistics are refused: only parameters are
//        federated). A file that does not load is an error, never an exception.
// The same spec and seed give the same initial parameters.
Result<std::unique_ptr<Model>> make_model(std::string_view spec, std::uint64_t seed);

// "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:N".
Result<torch::Device> choose_device(std::string_view request);

}  // namespace fl::models
