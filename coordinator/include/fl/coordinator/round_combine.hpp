// The arithmetic of a round that needs no data: the bounds applied to the updates before the
// rule (claims become weights; an update over the norm bound, or every update when rescaling to
// a reference, is scaled, as a copy) and the server step. close_round and the round audit both
// call these, so a re-run round takes exactly the coordinator's steps. No torch here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/update_bounds.hpp"

namespace fl::coordinator {

struct BoundedUpdates {
  std::vector<double> weights;             // one per update, bounded_weights(claims, norms)
  std::vector<double> norms;               // each update's L2 norm as received
  std::vector<std::vector<float>> copies;  // the scaled updates' copies (`views` points into them)
  std::vector<UpdateView> views;           // what the rule combines, in input order
  int clipped = 0;                         // updates scaled down
};

// `reference_norm`: set when rescaling to a reference update (bounds.rescale_to_reference).
BoundedUpdates bound_updates(std::span<const std::span<const float>> updates,
                             std::span<const std::uint64_t> claims, const UpdateBounds& bounds,
                             std::optional<double> reference_norm);

// global += lr * combined, in float, element by element; returns the change applied.
std::vector<float> server_step(std::vector<float>& global, std::span<const float> combined,
                               double lr);

}  // namespace fl::coordinator
