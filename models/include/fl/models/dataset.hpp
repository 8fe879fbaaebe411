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
  torch::Tensor images;  // float32 [N, ...input_shape], normalised (see load_dataset)
  torch::Tensor labels;  // int64 [N], each in [0, num_classes)
  std::vector<std::int64_t> input_shape;  // one example, e.g. {1, 28, 28}
  int num_classes = 0;                    // from the labels (or the format), not assumed
  std::vector<std::string> class_names;   // class i's name where the format has names (csv, images)

  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

enum class Split { kTrain, kTest };

// A dataset by spec (dataset_spec.hpp): idx:DIR, npz:FILE, csv:FILE?label=COLUMN, cifar10:DIR,
// images:DIR; a plain directory means idx:DIR. Input shape and class count come from the data
// (the class count covers the training and this split's labels, or classes=N). Features are
// normalised per channel (images) or per feature (tables) with the mean and standard
// deviation of the training split, or those the spec states (mean=..&std=..), so both splits
// share one map. Every problem (missing or malformed file, unknown format or option) is an
// error naming the file and what is wrong; nothing throws.
Result<Dataset> load_dataset(std::string_view spec, Split split);

// Reads an IDX image file [N, H, W] and label file [N] (gzipped or plain) and checks that they
// agree on N. num_classes is the largest label plus one, at least `min_classes`. Normalised
// with the statistics of these images.
Result<Dataset> load_idx_dataset(const std::filesystem::path& images,
                                 const std::filesystem::path& labels, int min_classes = 0);

// load_dataset("idx:" + dir): train-images-idx3-ubyte.gz / t10k-... (or without .gz).
Result<Dataset> load_fashion_mnist(const std::filesystem::path& dir = kDefaultFashionMnistDir,
                                   Split split = Split::kTrain);

// "[1,28,28]"
std::string describe_shape(std::span<const std::int64_t> shape);

std::vector<std::int64_t> labels_of(const Dataset& data);

// The worker's commitment to the selected examples, "merkle:v1:<count>:<root hex>": the Merkle
// root over their sorted per-example digests (dataset_provenance.hpp), so a worker can commit
// to the data it trained on without revealing it, and later prove an example in or out of it.
// Equal selections give equal text (screening's copy groups compare it).
std::string dataset_fingerprint(const Dataset& data, std::span<const std::int64_t> indices);

}  // namespace fl::models
