// A trained model as a TorchScript file that torch.jit.load opens in Python (or C++) without
// FedLedger: zoo models become a scripted module with the same parameter names (fc1.weight, ...)
// and the same forward; TorchScript models are their own file with the trained parameters.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

#include "fl/common/result.hpp"
#include "fl/common/tensor_codec.hpp"

namespace fl::models {

// `spec` and `layout` as a .flm file records them ("mlp", "cnn", "logreg" or
// "torchscript:<path>", the path must still exist); `parameters` in layout order. The module
// takes the inputs the job's data gave (normalised as load_dataset normalises) and returns
// logits. kInvalidArgument when the layout is not the spec's, kIo/kCorrupt name the file.
Status save_torchscript(std::string_view spec, const common::TensorLayout& layout,
                        std::span<const float> parameters, const std::filesystem::path& out);

}  // namespace fl::models
