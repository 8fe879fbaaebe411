// A round's recipe: the rule's canonical name and every setting that shapes the aggregate (the
// server learning rate, how claims become weights, the norm bound, rescaling, DP), as one line
// the round result records in its `rule` field, e.g.
//   "median; server_lr=1; weights=backed:2; norm_bound=3; rescale_to_reference=0; dp=0".
// With the round's updates and the previous model, anyone re-runs the round from it
// (round_audit.hpp). No torch here.
#pragma once

#include <string>
#include <string_view>

#include "fl/common/result.hpp"
#include "fl/coordinator/update_bounds.hpp"

namespace fl::coordinator {

struct RoundRecipe {
  std::string rule;  // the rule's canonical name (AggregationRule::name()), make_rule parses it
  double server_learning_rate = 1.0;
  UpdateBounds bounds;
  bool dp = false;  // client-level DP noise was added: the round cannot be re-run bit for bit
};

RoundRecipe recipe_of(const std::string& rule_name, const CloseSettings& settings);
std::string recipe_text(const RoundRecipe& recipe);
// kInvalidArgument naming what is missing or malformed; a bare rule name (recorded before
// recipes were) is refused as "does not record its aggregation settings".
Result<RoundRecipe> parse_recipe(std::string_view text);

}  // namespace fl::coordinator
