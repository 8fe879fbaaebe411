#include "fl/common/rdp_composition.hpp"

#include "fl/common/rdp_accountant.hpp"

namespace fl::common {

RdpComposition::RdpComposition() : orders_(default_rdp_orders()), rdp_(orders_.size(), 0.0) {}

Status RdpComposition::add_round(double q, double sigma) {
  // RDP composes additively at each order (Mironov 2017, Proposition 1).
  FL_ASSIGN_OR_RETURN(auto step, rdp_sampled_gaussian(q, sigma, 1, orders_));
  for (std::size_t i = 0; i < rdp_.size(); ++i) rdp_[i] += step[i];
  ++rounds_;
  return ok_status();
}

Result<double> RdpComposition::epsilon(double delta) const {
  if (rounds_ == 0) {
    if (!(delta > 0 && delta < 1)) {
      return make_error(ErrorCode::kInvalidArgument, "delta must be in (0, 1)");
    }
    return 0.0;
  }
  FL_ASSIGN_OR_RETURN(auto best, epsilon_from_rdp(orders_, rdp_, delta, RdpConversion::kBalle2020));
  return best.epsilon;
}

Result<double> RdpComposition::epsilon_after(double q, double sigma, double delta) const {
  RdpComposition next = *this;
  FL_RETURN_IF_ERROR(next.add_round(q, sigma));
  return next.epsilon(delta);
}

}  // namespace fl::common
