// One loader per dataset format behind load_dataset(). Each returns one split as raw tensors
// (features as float32, pixels scaled to [0, 1], not yet normalised): load_dataset computes the
// normalisation from the training split and applies it to both.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/dataset_spec.hpp"

namespace fl::models {

struct RawSplit {
  torch::Tensor x;                        // float32 [N, ...input_shape]
  torch::Tensor y;                        // int64 [N], in [0, num_classes)
  std::vector<std::int64_t> input_shape;  // one example
  int num_classes = 0;                    // classes this split knows of (at least)
  std::vector<std::string> class_names;   // when the format names them (csv, images)
};

// An IDX image file [N, H, W] and label file [N] that agree on N.
Result<RawSplit> read_idx_pair(const std::filesystem::path& images,
                               const std::filesystem::path& labels);

Result<RawSplit> load_idx_split(const DatasetSpec& spec, Split split);
Result<RawSplit> load_npz_split(const DatasetSpec& spec, Split split);
Result<RawSplit> load_csv_split(const DatasetSpec& spec, Split split);
Result<RawSplit> load_cifar10_split(const DatasetSpec& spec, Split split);
Result<RawSplit> load_image_folder_split(const DatasetSpec& spec, Split split);

// The deterministic hold-out used when a format has no test file: example i belongs to the test
// split when i % kHoldOutEvery == kHoldOutEvery - 1 (every fifth, 20%), to training otherwise.
inline constexpr std::int64_t kHoldOutEvery = 5;
RawSplit hold_out(RawSplit all, Split split);

// "dataset 'SPEC': FILE: PROBLEM" as a kInvalidArgument/kCorrupt error.
Error data_error(ErrorCode code, const DatasetSpec& spec, const std::filesystem::path& file,
                 const std::string& problem);

// The whole file, refusing more than `max_bytes`; kNotFound names a missing file.
Result<std::vector<std::uint8_t>> read_whole_file(const DatasetSpec& spec,
                                                  const std::filesystem::path& file,
                                                  std::uint64_t max_bytes);

inline constexpr std::uint64_t kMaxDataFileBytes = std::uint64_t{4} << 30;

}  // namespace fl::models
