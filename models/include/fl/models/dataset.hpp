// In-memory image-classification datasets for local training and evaluation: the whole set
// is loaded once as two tensors, and batches are taken with index_select.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::models {

inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  torch::Tensor images;  // float32 [N, 1, 28, 28], normalised with the training-set mean/std
  torch::Tensor labels;  // int64 [N]
  int num_classes = 10;

  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

enum class Split { kTrain, kTest };

// Reads an IDX image file [N, H, W] and label file [N] (gzipped or plain) and checks that they
// agree on N and that every label is below num_classes (10).
Result<Dataset> load_idx_dataset(const std::filesystem::path& images,
                                 const std::filesystem::path& labels);

// train-images-idx3-ubyte.gz / t10k-... under `dir` (plain files without .gz also accepted).
Result<Dataset> load_fashion_mnist(const std::filesystem::path& dir = kDefaultFashionMnistDir,
                                   Split split = Split::kTrain);

std::vector<std::int64_t> labels_of(const Dataset& data);

// Hex BLAKE2b-256 over the selected examples (index order, image bytes and label), so a
// worker can commit to the data it trained on without revealing it.
std::string dataset_fingerprint(const Dataset& data, std::span<const std::int64_t> indices);

}  // namespace fl::models
