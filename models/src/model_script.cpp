#include "fl/models/model_script.hpp"

#include <torch/script.h>

#include <map>

#include "fl/models/model.hpp"
#include "fl/models/model_fit.hpp"

namespace fl::models {
namespace {

// The zoo's forward passes in TorchScript, op for op as in model.cpp (torch::nn::Linear on 2-D
// input is addmm; Conv2d is conv2d with padding 2).
const std::map<std::string_view, const char*> kZooForward = {
    {"mlp", R"(
def forward(self, x):
    h = torch.relu(torch.addmm(self.fc1.bias, x.flatten(1), self.fc1.weight.t()))
    h = torch.relu(torch.addmm(self.fc2.bias, h, self.fc2.weight.t()))
    return torch.addmm(self.fc3.bias, h, self.fc3.weight.t())
)"},
    {"logreg", R"(
def forward(self, x):
    return torch.addmm(self.fc.bias, x.flatten(1), self.fc.weight.t())
)"},
    {"cnn", R"(
def forward(self, x):
    h = torch.conv2d(x, self.conv1.weight, self.conv1.bias, [1, 1], [2, 2])
    h = torch.max_pool2d(torch.relu(h), [2, 2])
    h = torch.conv2d(h, self.conv2.weight, self.conv2.bias, [1, 1], [2, 2])
    h = torch.max_pool2d(torch.relu(h), [2, 2])
    h = torch.relu(torch.addmm(self.fc1.bias, h.flatten(1), self.fc1.weight.t()))
    return torch.addmm(self.fc2.bias, h, self.fc2.weight.t())
)"},
};

std::vector<torch::Tensor> unflatten(const common::TensorLayout& layout,
                                     std::span<const float> parameters) {
  std::vector<torch::Tensor> tensors;
  std::size_t offset = 0;
  for (const auto& spec : layout.tensors) {
    auto t = torch::from_blob(const_cast<float*>(parameters.data() + offset), spec.shape,
                              torch::kFloat32)
                 .clone()
                 .requires_grad_(true);  // trainable when loaded again, in Python or a new job
    offset += static_cast<std::size_t>(t.numel());
    tensors.push_back(t);
  }
  return tensors;
}

// A module whose submodules ("fc1") hold the parameters ("weight"), so Python sees fc1.weight.
Result<torch::jit::Module> scripted_zoo(std::string_view spec, const common::TensorLayout& layout,
                                        std::span<const float> parameters) {
  const auto forward = kZooForward.find(spec);
  if (forward == kZooForward.end()) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "model '" + std::string(spec) + "' cannot be exported; expected " + kModelSpecs);
  }
  const auto tensors = unflatten(layout, parameters);
  torch::jit::Module module("__torch__.fedledger." + std::string(spec));
  std::map<std::string, torch::jit::Module> children;
  for (std::size_t i = 0; i < layout.tensors.size(); ++i) {
    const auto& name = layout.tensors[i].name;
    const auto dot = name.find('.');
    if (dot == std::string::npos) {
      return make_error(
          ErrorCode::kInvalidArgument,
          "model '" + std::string(spec) + "': parameter '" + name + "' is not MODULE.PARAMETER");
    }
    const auto child = name.substr(0, dot);
    auto [it, fresh] = children.try_emplace(
        child, torch::jit::Module("__torch__.fedledger." + std::string(spec) + "_" + child));
    it->second.register_parameter(name.substr(dot + 1), tensors[i], /*is_buffer=*/false);
  }
  for (auto& [name, child] : children) module.register_module(name, child);
  module.define(forward->second);
  return module;
}

}  // namespace

Status save_torchscript(std::string_view spec, const common::TensorLayout& layout,
                        std::span<const float> parameters, const std::filesystem::path& out) {
  if (static_cast<std::int64_t>(parameters.size()) != layout.numel()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "model '" + std::string(spec) + "': " + std::to_string(parameters.size()) +
                          " parameters for a layout of " + std::to_string(layout.numel()));
  }
  try {
    if (spec.starts_with("torchscript:")) {
      FL_ASSIGN_OR_RETURN(auto model, make_model(spec, 0));
      if (!(model->layout() == layout)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "model '" + std::string(spec) + "': the file's layout " +
                              model->layout().describe() + " is not the trained one " +
                              layout.describe());
      }
      FL_RETURN_IF_ERROR(model->set_flat_parameters(parameters));
      torch::jit::Module module = torch::jit::load(std::string(spec.substr(12)), torch::kCPU);
      const auto trained = model->parameters();
      std::size_t i = 0;
      torch::NoGradGuard no_grad;
      for (auto p : module.parameters(/*recurse=*/true)) p.copy_(trained.at(i++));
      module.save(out.string());
      return ok_status();
    }
    FL_ASSIGN_OR_RETURN(auto module, scripted_zoo(spec, layout, parameters));
    module.save(out.string());
    return ok_status();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIo, "cannot write TorchScript file " + out.string() + ": " +
                                          exception_summary(e));
  }
}

}  // namespace fl::models
