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
  std::uint64_t seed = 0;  // bucketing's shuffle (mixed with the call number, so rounds differ)
  int threads = 0;       // 0: all hardware threads; results do not depend on the count
  int multikrum_m = 0;   // Multi-Krum: how many best-scored updates to average; 0: n - f
  double geomed_nu = 1e-6;     // smoothed Weiszfeld: distances are floored at nu (RFA)
  int geomed_max_iter = 100;   // smoothed Weiszfeld: iteration cap
  double geomed_tol = 1e-6;    // stop when |g_prev - g| <= tol * g, g the weighted objective
  double cclip_tau = 10.0;     // centered clipping: clipping radius tau
  int cclip_iters = 1;         // centered clipping: iterations L per round
  int bucket_size = 2;         // bucketing: s updates per bucket
  double clip_norm = 0.0;      // static clipping: L2 norm bound (must be set > 0 to use "clip")
};

// Builds a rule from a spec: steps joined by '+', the last one the rule, each optionally with
// parameters that override `options`, e.g. "fedavg", "nnm+trimmed_mean", "krum(f=2)",
// "bucketing(s=3)+cclip(tau=5,iters=3)". The components and their parameters are those of
// rule_registry() (rule_registry.hpp). The result's name() is the canonical
// spec and parses back to the same rule. Preconditions that depend on n are checked per call.
Result<std::unique_ptr<AggregationRule>> make_rule(std::string_view spec, const RuleOptions& options);

}  // namespace fl::coordinator
