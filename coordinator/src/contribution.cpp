#include "fl/coordinator/contribution.hpp"

#include <algorithm>
#include <cmath>

#include "scoring/validation_scorers.hpp"

namespace fl::coordinator {

double l2_norm(std::span<const float> v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  const double upper = *mid;
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), mid);
  return (lower + upper) / 2;
}

double cosine_similarity(std::span<const float> a, std::span<const float> b) {
  double dot = 0, na = 0, nb = 0;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

std::vector<double> contribution_scores(std::span<const std::span<const float>> updates,
                                        std::span<const float> aggregate) {
  std::vector<double> scores;
  scores.reserve(updates.size());
  for (auto u : updates) scores.push_back(std::max(0.0, cosine_similarity(u, aggregate)));
  return scores;
}

}  // namespace fl::coordinator

namespace fl::coordinator {

namespace {

class CosineScorer final : public ContributionScorer {
 public:
  std::string name() const override { return "cosine"; }
  Result<std::vector<double>> score(const ScoringInput& input) override {
    FL_RETURN_IF_ERROR(check_scoring_input(input));
    return contribution_scores(input.updates, input.aggregate);
  }
};

struct ScorerEntry {
  std::string_view name;
  std::unique_ptr<ContributionScorer> (*make)();
};

const ScorerEntry kScorers[] = {
    {"cosine",
     [] { return std::unique_ptr<ContributionScorer>(std::make_unique<CosineScorer>()); }},
    {"fltrust", make_fltrust_scorer},
    {"loo", make_loo_scorer},
    {"gtg_shapley", make_gtg_shapley_scorer},
};

}  // namespace

Status check_scoring_input(const ScoringInput& in) {
  if (in.sample_counts.size() != in.updates.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "scoring: " + std::to_string(in.updates.size()) + " updates but " +
                          std::to_string(in.sample_counts.size()) + " sample counts");
  }
  for (std::size_t i = 0; i < in.updates.size(); ++i) {
    if (in.updates[i].size() != in.aggregate.size()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "scoring: update " + std::to_string(i) + " has " +
                            std::to_string(in.updates[i].size()) + " values, the aggregate " +
                            std::to_string(in.aggregate.size()));
    }
  }
  return ok_status();
}

Result<std::unique_ptr<ContributionScorer>> make_scorer(std::string_view spec) {
  std::string known;
  for (const auto& s : kScorers) {
    if (s.name == spec) return s.make();
    known += (known.empty() ? "" : ", ") + std::string(s.name);
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown contribution scorer '" + std::string(spec) + "'; known: " + known);
}

}  // namespace fl::coordinator
