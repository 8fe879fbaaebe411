// Research mode: attacks mounted by colluding Byzantine workers that see every honest update of
// the round, which only the simulation can offer. Both return the one vector that every
// attacker sends. No torch: they work on flat float vectors, like the aggregation rules.
#pragma once

#include <span>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

// Inverse of the standard normal CDF, Phi^-1(p) for p in (0, 1) (Acklam's rational
// approximation refined by one Halley step on std::erfc: ~1e-15 relative error).
double inverse_normal_cdf(double p);

// "A Little Is Enough" (Baruch et al. 2019), the paper's choice of z for n workers of which f
// are Byzantine: s = floor(n/2 + 1) - f workers must be won over, z = Phi^-1((n - s) / n).
// kInvalidArgument unless 0 < f < n and 0 < s < n (e.g. n = 20, f = 4: s = 7, z = 0.385).
struct AlieThreshold {
  int s = 0;
  double z = 0;
};
Result<AlieThreshold> alie_threshold(int n, int f);

// ALIE: per coordinate j, mean_j + z * std_j of the honest updates (population std), a vector
// that stays inside the honest spread yet moves every coordinate the same way.
// kInvalidArgument when there are no honest updates or their lengths differ.
Result<std::vector<float>> alie_update(std::span<const std::span<const float>> honest, double z);

// Inner-product manipulation (Xie et al. 2019, "Fall of Empires"): -epsilon * mean of the honest
// updates, so the aggregate's inner product with the true mean turns negative when the rule lets
// enough of it through. Same errors as alie_update.
Result<std::vector<float>> ipm_update(std::span<const std::span<const float>> honest,
                                      double epsilon);

}  // namespace fl::coordinator
