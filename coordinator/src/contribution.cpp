#include "fl/coordinator/contribution.hpp"

#include <algorithm>
#include <cmath>

#include "scoring/validation_scorers.hpp"

namespace fl::coordinator {

namespace {

// Sums in kLanes independent double accumulators, added in a fixed order at the end: the loop
// vectorises and is not bound by one addition's latency, and the result does not depend on how.
constexpr std::size_t kLanes = 8;

double lane_total(const double (&lanes)[kLanes]) {
  double s = 0;
  for (double x : lanes) s += x;
  return s;
}

}  // namespace

double l2_norm(std::span<const float> v) {
  double lanes[kLanes] = {};
  const std::size_t n = v.size(), body = n / kLanes * kLanes;
  for (std::size_t i = 0; i < body; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lanes[l] += static_cast<double>(v[i + l]) * v[i + l];
  }
  for (std::size_t i = body; i < n; ++i) lanes[i - body] += static_cast<double>(v[i]) * v[i];
  return std::sqrt(lane_total(lanes));
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
  double dots[kLanes] = {}, as[kLanes] = {}, bs[kLanes] = {};
  const std::size_t n = std::min(a.size(), b.size()), body = n / kLanes * kLanes;
  const auto add = [&](std::size_t i, std::size_t l) {
    const double x = a[i], y = b[i];
    dots[l] += x * y;
    as[l] += x * x;
    bs[l] += y * y;
  };
  for (std::size_t i = 0; i < body; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) add(i + l, l);
  }
  for (std::size_t i = body; i < n; ++i) add(i, i - body);
  const double dot = lane_total(dots), na = lane_total(as), nb = lane_total(bs);
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
    {"output_shapley", make_output_shapley_scorer},
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
