#include "fl/models/dataset_provenance.hpp"

namespace fl::models {

std::vector<common::Digest> example_digests(const Dataset& data,
                                            std::span<const std::int64_t> indices) {
  const auto images = data.images.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto labels = data.labels.to(torch::kCPU, torch::kInt64).contiguous();
  const std::int64_t n = labels.numel();
  const std::int64_t example_floats = n == 0 ? 0 : images.numel() / n;
  const float* values = images.data_ptr<float>();
  const std::int64_t* label_values = labels.data_ptr<std::int64_t>();
  std::vector<common::Digest> digests;
  digests.reserve(indices.size());
  for (const std::int64_t i : indices) {
    TORCH_CHECK(i >= 0 && i < n, "example_digests: index ", i, " outside [0, ", n, ")");
    const std::span<const float> example(values + i * example_floats,
                                         static_cast<std::size_t>(example_floats));
    digests.push_back(common::example_digest(example, label_values[i]));
  }
  return digests;
}

std::vector<common::Digest> committed_leaves(const Dataset& data,
                                             std::span<const std::int64_t> indices) {
  return common::sorted_leaves(example_digests(data, indices));
}

std::string dataset_fingerprint(const Dataset& data, std::span<const std::int64_t> indices) {
  return common::to_string(common::commit_sorted_leaves(committed_leaves(data, indices)));
}

}  // namespace fl::models
