// Splits a labelled dataset among workers, the way federated-learning papers simulate
// non-IID clients: iid (uniform shuffle), dirichlet:alpha (per-class proportions drawn from
// Dir(alpha), Hsu et al. 2019) and shards:k (sort by label, deal k shards each, McMahan et al.
// 2017). No torch here: it works on a span of labels.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::models {

enum class PartitionKind { kIid, kDirichlet, kShards };

struct PartitionSpec {
  PartitionKind kind = PartitionKind::kIid;
  double alpha = 0.5;        // dirichlet concentration: smaller is more skewed
  int shards_per_part = 2;   // shards: label-sorted shards dealt to each part
  std::uint64_t seed = 0;
};

// "iid", "dirichlet:0.3", "shards:2" (the seed is not part of the text).
Result<PartitionSpec> parse_partition(std::string_view text);
std::string to_string(const PartitionSpec& spec);

// One sorted list of example indices per part. The lists are disjoint, cover every example,
// and none is empty (an error when that is impossible, e.g. more parts than examples). The
// same labels, spec and seed give the same split. Labels must lie in [0, num_classes).
Result<std::vector<std::vector<std::int64_t>>> partition(std::span<const std::int64_t> labels,
                                                         int num_classes, int num_parts,
                                                         const PartitionSpec& spec);

// Part k of n, as a worker and a simulated worker both take it: partition(...)[k], capped to
// max_samples (0: no cap) by a subset drawn with (spec.seed, k), kept sorted.
Result<std::vector<std::int64_t>> worker_share(std::span<const std::int64_t> labels, int num_classes,
                                               const PartitionSpec& spec, int k, int n,
                                               std::int64_t max_samples);

}  // namespace fl::models
