// Contribution scores: how much each accepted update helped this round. Start with the positive
// part of the cosine similarity between an update and the robust aggregate, so updates pointing
// away from the consensus earn nothing (the ledger turns scores into reward shares).
#pragma once

#include <span>
#include <vector>

namespace fl::coordinator {

double cosine_similarity(std::span<const float> a, std::span<const float> b);
std::vector<double> contribution_scores(std::span<const std::span<const float>> updates,
                                        std::span<const float> aggregate);
double l2_norm(std::span<const float> v);

}  // namespace fl::coordinator
