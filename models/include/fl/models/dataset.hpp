// In-memory image-classification datasets for local training and evaluation: the whole set
// is loaded once as two tensors, and batches are taken with index_select. load_dataset(spec)
// is the one entry point for every binary; the spec names the format and where it lives.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::models {

inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  torch::Tensor images;  // float32 [N, ...input_shape], normalised with fixed pixel mean/std
  torch::Tensor labels;  // int64 [N], each in [0, num_classes)
  std::vector<std::int64_t> input_shape;  // one example, e.g. {1, 28, 28}
  int num_classes = 0;                    // from the labels (or the format), not assumed

  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

enum class Split { kTrain, kTest };

// "idx:DIR", or a plain directory path meaning the same: the (Fashion-)MNIST IDX files
// train-/t10k-images-idx3-ubyte[.gz] and ...-labels-idx1-ubyte[.gz] under DIR. The class count
// is the largest label of the training labels and this split's labels, plus one, so both
// splits agree. kInvalidArgument for an unknown format, kNotFound for a missing directory.
Result<Dataset> load_dataset(std::string_view spec, Split split);

// Reads an IDX image file [N, H, W] and label file [N] (gzipped or plain) and checks that they
// agree on N. num_classes is the largest label plus one, at least `min_classes`.
Result<Dataset> load_idx_dataset(const std::filesystem::path& images,
                                 const std::filesystem::path& labels, int min_classes = 0);

// train-images-idx3-ubyte.gz / t10k-... under `dir` (plain files without .gz also accepted).
Result<Dataset> load_fashion_mnist(const std::filesystem::path& dir = kDefaultFashionMnistDir,
                                   Split split = Split::kTrain);

// "[1,28,28]"
std::string describe_shape(std::span<const std::int64_t> shape);

std::vector<std::int64_t> labels_of(const Dataset& data);

// Hex BLAKE2b-256 over the selected examples (index order, image bytes and label), so a
// worker can commit to the data it trained on without revealing it.
std::string dataset_fingerprint(const Dataset& data, std::span<const std::int64_t> indices);

}  // namespace fl::models
