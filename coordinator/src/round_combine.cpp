#include "fl/coordinator/round_combine.hpp"

#include "fl/common/update_attack.hpp"
#include "fl/coordinator/contribution.hpp"

namespace fl::coordinator {

BoundedUpdates bound_updates(std::span<const std::span<const float>> updates,
                             std::span<const std::uint64_t> claims, const UpdateBounds& bounds,
                             std::optional<double> reference_norm) {
  BoundedUpdates out;
  auto& norms = out.norms;
  norms.reserve(updates.size());
  for (const auto& u : updates) norms.push_back(l2_norm(u));
  out.weights = bounded_weights(claims, norms, bounds);
  auto scales = norm_scales(norms, bounds);
  if (reference_norm) {
    for (std::size_t i = 0; i < scales.size(); ++i)
      scales[i] = norms[i] > 0 ? *reference_norm / norms[i] : 1.0;
  }
  std::size_t copies = 0;
  for (double s : scales) copies += s != 1 ? 1 : 0;
  out.copies.reserve(copies);  // no reallocation below: the views point into these
  for (std::size_t i = 0; i < updates.size(); ++i) {
    std::span<const float> values = updates[i];
    if (scales[i] != 1) {
      auto& copy = out.copies.emplace_back(updates[i].begin(), updates[i].end());
      common::scale_update(copy, scales[i]);
      values = copy;
      if (scales[i] < 1) ++out.clipped;
    }
    out.views.push_back({values, out.weights[i]});
  }
  return out;
}

std::vector<float> server_step(std::vector<float>& global, std::span<const float> combined,
                               double lr) {
  const auto step = static_cast<float>(lr);
  std::vector<float> change(combined.size());
  for (std::size_t i = 0; i < change.size(); ++i) change[i] = step * combined[i];
  for (std::size_t i = 0; i < global.size() && i < change.size(); ++i) global[i] += change[i];
  return change;
}

}  // namespace fl::coordinator
