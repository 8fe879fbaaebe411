// Applies any aggregation rule to an n x d float32 NumPy file, so researchers can compare
// fl-coordinator's rules with Python implementations on the same inputs
// (`fl-coordinator aggregate --rule RULE --in updates.npy --out result.npy`).
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"

namespace fl::coordinator {

// Reads `in` (2-D float32, one update per row), optionally per-row weights from `weights_npy`
// (1-D float32 of length n; default 1 each), aggregates the rows in file order with the rule
// `rule_spec` and writes the 1-D result of length d to `out`.
Status aggregate_npy_file(const std::filesystem::path& in, const std::filesystem::path& out,
                          std::string_view rule_spec, const RuleOptions& options,
                          const std::optional<std::filesystem::path>& weights_npy);

}  // namespace fl::coordinator
