// A job's privacy spent so far: the Rényi DP of its rounds composed in order (each round a
// sampled Gaussian mechanism with its own q and sigma, see rdp_accountant.hpp), converted to
// (epsilon, delta) with Balle et al. 2020. The coordinator checks its budget with one and the
// ledger's rules replay one per job, so both arrive at the same epsilon bit for bit.
#pragma once

#include <cstdint>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::common {

class RdpComposition {
 public:
  RdpComposition();  // no rounds yet, over default_rdp_orders()

  // Adds one round; fails naming the value when q is outside [0, 1] or sigma is negative or
  // not finite (the composition is then unchanged).
  Status add_round(double q, double sigma);
  // Epsilon of the rounds added so far at `delta` (0 for none; +inf when no order is finite).
  Result<double> epsilon(double delta) const;
  // Epsilon as if one more round (q, sigma) were added; the composition is unchanged.
  Result<double> epsilon_after(double q, double sigma, double delta) const;
  std::uint64_t rounds() const { return rounds_; }

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_;  // composed RDP at each order
  std::uint64_t rounds_ = 0;
};

}  // namespace fl::common
