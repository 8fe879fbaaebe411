// The aggregation interface: a rule combines n model updates (flat float32 vectors of equal
// length, all finite, sorted by worker key by the caller) into one vector. Rules work on plain
// spans with Eigen, never torch, so the coordinator aggregates without a deep-learning runtime.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct UpdateView {
  std::span<const float> values;
  double weight = 1.0;  // sample count for weighted rules; rules that ignore it say so
};

class AggregationRule {
 public:
  virtual ~AggregationRule() = default;
  // Canonical name with parameters, e.g. "krum(f=4)"; recorded in metrics and the ledger.
  virtual std::string name() const = 0;
  // Non-const: some rules (centered clipping) keep state across rounds.
  virtual Result<std::vector<float>> aggregate(std::span<const UpdateView> updates) = 0;
};

// Parameters shared by the rules; each rule reads the ones it needs.
struct RuleOptions {
  int f = 0;             // assumed number of Byzantine updates
  std::uint64_t seed = 0;
  int threads = 0;       // 0: all hardware threads
};

// Builds a rule from a spec such as "fedavg" or "nnm+trimmed_mean".
Result<std::unique_ptr<AggregationRule>> make_rule(std::string_view spec, const RuleOptions& options);

}  // namespace fl::coordinator
