// Reads a rule's parameters from a config section, the same way for a training job's
// [aggregation] and a simulation sweep's, so both accept the same keys with the same limits.
#pragma once

#include "fl/common/config_table.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"

namespace fl::coordinator {

// Keys: f, multikrum_m, geomed_nu, geomed_max_iter, geomed_tol, cclip_tau, cclip_iters,
// bucket_size, clip_norm, threads. Absent keys keep the value already in `options`.
Status read_rule_options(const common::ConfigTable& section, RuleOptions& options);

}  // namespace fl::coordinator
