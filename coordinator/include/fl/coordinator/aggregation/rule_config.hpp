// Reads a rule's parameters from a config section, the same way for a training job's
// [aggregation] and a simulation sweep's, so both accept the same keys with the same limits.
#pragma once

#include "fl/common/config_table.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"

namespace fl::coordinator {

// Keys: every registry parameter with in_config (rule_option_params(): f, threads,
// multikrum_m, geomed_nu, ..., clip_norm), with the registry's bounds. Absent keys keep the
// value already in `options`.
Status read_rule_options(const common::ConfigTable& section, RuleOptions& options);

}  // namespace fl::coordinator
