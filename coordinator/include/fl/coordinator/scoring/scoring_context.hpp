// What close_round needs to score a round beyond the updates: the scorer, the coordinator's
// validation set, the screening history carried between rounds and its settings, and each
// accepted update's registered dataset fingerprint. `run` and `simulate` build one per job.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "fl/common/config_table.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/scoring/screening.hpp"
#include "fl/coordinator/scoring/validation.hpp"

namespace fl::coordinator {

// [scoring] as a job or sweep gives it.
struct ScoringSettings {
  // make_scorer spec. A job scores by Shapley values on the coordinator's own validation set
  // by default (output_shapley); a simulation sweep keeps cosine unless it names a scorer
  // (sweep_config.cpp).
  std::string scorer = "output_shapley";
  // Examples of the test split held apart as the coordinator's validation set. -1: 1,000 when
  // the scorer measures on it (output_shapley, fltrust, loo, gtg_shapley), else none.
  std::int64_t validation_samples = -1;
  ScreeningSettings screening;
};
// Reads scorer, validation_samples and the screening keys; errors name the file and key.
Status read_scoring_settings(const common::ConfigTable& scoring, ScoringSettings& out);
// validation_samples with -1 resolved for the scorer the job runs.
std::int64_t validation_samples_for(const ScoringSettings& settings, const ContributionScorer& scorer);
// What a scorer that measures on the validation set would hold apart (-1 resolved to 1000).
std::int64_t validation_samples_held(const ScoringSettings& settings);

struct ScoringContext {
  ContributionScorer& scorer;
  ValidationOracle* validation = nullptr;  // required when scorer.needs_validation()
  ScreeningHistory* history = nullptr;     // null: no screening (the updates are not kept)
  ScreeningSettings screening;
  std::span<const std::string> fingerprints;  // per accepted update, or empty
};

}  // namespace fl::coordinator
