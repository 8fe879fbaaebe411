// The scorers that measure models on the coordinator's validation set (see contribution.hpp):
// FLTrust, leave-one-out and GTG-Shapley. Private to the coordinator library.
#pragma once

#include <memory>

#include "fl/coordinator/contribution.hpp"

namespace fl::coordinator {

std::unique_ptr<ContributionScorer> make_fltrust_scorer();
std::unique_ptr<ContributionScorer> make_loo_scorer();
std::unique_ptr<ContributionScorer> make_output_shapley_scorer();
std::unique_ptr<ContributionScorer> make_gtg_shapley_scorer();

}  // namespace fl::coordinator
