#include "shapley_reference.hpp"

#include "fl/coordinator/scoring/shapley.hpp"

namespace fl::coordinator {

Result<std::optional<std::vector<double>>> exact_round_shapley(std::span<const float> global,
                                                               const CollectedRound& collected,
                                                               double server_learning_rate,
                                                               ModelEvaluator& evaluator) {
  const auto& updates = collected.accepted;
  if (updates.size() < 2 || updates.size() > kMaxShapleyWorkers) return std::optional<std::vector<double>>{};
  std::vector<float> params(global.size());
  auto utility = [&](std::span<const std::size_t> members) -> Result<double> {
    std::copy(global.begin(), global.end(), params.begin());
    double total = 0;
    for (auto i : members) total += static_cast<double>(updates[i].header.num_samples);
    for (auto i : members) {
      const auto w = static_cast<float>(server_learning_rate * static_cast<double>(updates[i].header.num_samples) / total);
      const auto& v = updates[i].values;
      for (std::size_t j = 0; j < params.size(); ++j) params[j] += w * v[j];
    }
    FL_ASSIGN_OR_RETURN(auto eval, evaluator.evaluate(params));
    return eval.accuracy;
  };
  FL_ASSIGN_OR_RETURN(auto phi, exact_shapley(updates.size(), utility));
  return std::optional<std::vector<double>>(std::move(phi));
}

}  // namespace fl::coordinator
