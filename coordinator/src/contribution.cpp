#include "fl/coordinator/contribution.hpp"

#include <algorithm>
#include <cmath>

namespace fl::coordinator {

double l2_norm(std::span<const float> v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
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
