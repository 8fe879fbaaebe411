#include "fl/coordinator/update_bounds.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fl::coordinator {

std::string weighting_name(SampleWeighting w) {
  switch (w) {
    case SampleWeighting::kBacked: return "backed";
    case SampleWeighting::kCapped: return "capped";
    case SampleWeighting::kEqual: return "equal";
    case SampleWeighting::kClaimed: return "claimed";
  }
  return "backed";
}

Status read_close_settings(const common::ConfigTable& a, CloseSettings& out) {
  FL_ASSIGN_OR_RETURN(out.server_learning_rate, a.number("server_learning_rate", out.server_learning_rate, 1e-9, 100));
  auto& b = out.bounds;
  FL_ASSIGN_OR_RETURN(auto weighting, a.text("sample_weights", weighting_name(b.weighting)));
  if (weighting == "backed") {
    b.weighting = SampleWeighting::kBacked;
  } else if (weighting == "capped") {
    b.weighting = SampleWeighting::kCapped;
  } else if (weighting == "equal") {
    b.weighting = SampleWeighting::kEqual;
  } else if (weighting == "claimed") {
    b.weighting = SampleWeighting::kClaimed;
  } else {
    return make_error(ErrorCode::kInvalidArgument, a.where("sample_weights") + " is \"" + weighting +
                                                       "\"; expected \"backed\" (the default), \"capped\", "
                                                       "\"equal\" or \"claimed\" (research mode: trusts workers' "
                                                       "sample counts)");
  }
  FL_ASSIGN_OR_RETURN(b.weight_cap, a.number("weight_cap", b.weight_cap, 1.0, 1e6));
  FL_ASSIGN_OR_RETURN(b.norm_multiple, a.number("norm_bound_multiple", b.norm_multiple, 0.0, 1e6));
  FL_ASSIGN_OR_RETURN(b.rescale_to_reference, a.boolean("rescale_to_reference", b.rescale_to_reference));
  if (b.norm_multiple > 0 && b.norm_multiple < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      a.where("norm_bound_multiple") + " must be 0 (no bound: research mode) or at least 1");
  }
  return ok_status();
}

std::string describe(const UpdateBounds& b) {
  char weights[96], norms[64];
  if (b.weighting == SampleWeighting::kBacked) {
    std::snprintf(weights, sizeof weights,
                  "sample weights capped at %gx the median claim and backed by the update's norm", b.weight_cap);
  } else if (b.weighting == SampleWeighting::kCapped) {
    std::snprintf(weights, sizeof weights, "sample weights capped at %gx the median claim", b.weight_cap);
  } else {
    std::snprintf(weights, sizeof weights, "sample weights %s", weighting_name(b.weighting).c_str());
  }
  if (b.norm_multiple > 0) {
    std::snprintf(norms, sizeof norms, "update norms bounded at %gx the median", b.norm_multiple);
  } else {
    std::snprintf(norms, sizeof norms, "update norms unbounded");
  }
  return std::string(weights) + ", " + norms +
         (b.rescale_to_reference ? ", each rescaled to the reference update's norm" : "");
}

bool is_research_mode(const UpdateBounds& b) {
  return b.weighting == SampleWeighting::kClaimed || b.norm_multiple <= 0;
}

std::vector<double> bounded_weights(std::span<const std::uint64_t> claims, std::span<const double> norms,
                                    const UpdateBounds& b) {
  std::vector<double> w(claims.begin(), claims.end());
  if (b.weighting == SampleWeighting::kEqual) {
    std::fill(w.begin(), w.end(), 1.0);
  } else if (b.weighting == SampleWeighting::kCapped || b.weighting == SampleWeighting::kBacked) {
    const double typical = median(w), cap = b.weight_cap * typical;
    const double typical_norm = norms.size() == w.size() ? median({norms.begin(), norms.end()}) : 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      w[i] = std::min(w[i], cap);
      if (b.weighting != SampleWeighting::kBacked || w[i] <= typical) continue;
      // Above the median claim, the update must be longer in proportion (more local steps).
      const double backed = typical_norm > 0 && std::isfinite(norms[i]) ? norms[i] / typical_norm : 1.0;
      w[i] = std::min(w[i], typical * std::max(1.0, backed));
    }
  }
  return w;
}

std::vector<double> norm_scales(std::span<const double> norms, const UpdateBounds& b) {
  std::vector<double> scales(norms.size(), 1.0);
  if (b.norm_multiple <= 0) return scales;
  const double bound = b.norm_multiple * median({norms.begin(), norms.end()});
  for (std::size_t i = 0; i < norms.size(); ++i) {
    if (std::isfinite(norms[i]) && norms[i] > bound && bound > 0) scales[i] = bound / norms[i];
  }
  return scales;
}

}  // namespace fl::coordinator
