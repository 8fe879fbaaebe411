#include "fl/coordinator/aggregation/aggregate_file.hpp"

#include "fl/common/npy.hpp"

namespace fl::coordinator {

Status aggregate_npy_file(const std::filesystem::path& in, const std::filesystem::path& out,
                          std::string_view rule_spec, const RuleOptions& options,
                          const std::optional<std::filesystem::path>& weights_npy) {
  FL_ASSIGN_OR_RETURN(auto rule, make_rule(rule_spec, options));
  FL_ASSIGN_OR_RETURN(auto updates, common::read_npy(in));
  if (updates.shape.size() != 2 || updates.shape[0] == 0 || updates.shape[1] == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "npy file " + in.string() +
                          ": updates must be a non-empty 2-D array (one update per row)");
  }
  const std::size_t n = updates.shape[0], d = updates.shape[1];
  std::vector<float> weights(n, 1.0f);
  if (weights_npy) {
    FL_ASSIGN_OR_RETURN(auto w, common::read_npy(*weights_npy));
    if (w.shape.size() != 1 || w.shape[0] != n) {
      return make_error(ErrorCode::kInvalidArgument,
                        "npy file " + weights_npy->string() + ": weights must be 1-D of length " +
                            std::to_string(n) + " (one per row of " + in.filename().string() + ")");
    }
    weights = std::move(w.values);
  }
  std::vector<UpdateView> views(n);
  for (std::size_t i = 0; i < n; ++i) {
    views[i].values = std::span<const float>(updates.values).subspan(i * d, d);
    views[i].weight = weights[i];
  }
  auto result = rule->aggregate(views);
  if (!result.ok()) return with_context(result.error(), rule->name() + " on " + in.string());
  const std::size_t shape[1] = {d};
  return common::write_npy(out, *result, shape);
}

}  // namespace fl::coordinator
