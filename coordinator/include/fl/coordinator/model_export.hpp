// `fl-coordinator export global.flm --to FILE`: a trained model out of FedLedger's own file
// format into what PyTorch and NumPy read. The header stays torch-free.
#pragma once

#include <filesystem>

#include "fl/common/result.hpp"

namespace fl::coordinator {

// By the extension of `out`: ".pt" writes a TorchScript module with the trained parameters
// (zoo models are scripted, TorchScript models are their own file; torch.jit.load opens
// either), ".npz" one float32 array per parameter named as in the model's layout
// ("fc1.weight"). The .flm file is checked (magic, layout, digest) first. kInvalidArgument for
// another extension.
Status export_model(const std::filesystem::path& flm, const std::filesystem::path& out);

}  // namespace fl::coordinator
