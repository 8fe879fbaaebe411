#include "fl/coordinator/scoring/scoring_context.hpp"

namespace fl::coordinator {

namespace {
constexpr std::int64_t kDefaultValidationSamples = 1000;
}

Status read_scoring_settings(const common::ConfigTable& sc, ScoringSettings& out) {
  FL_ASSIGN_OR_RETURN(out.scorer, sc.text("scorer", out.scorer));
  auto scorer = make_scorer(out.scorer);
  if (!scorer.ok()) return with_context(scorer.error(), sc.where("scorer"));
  FL_ASSIGN_OR_RETURN(out.validation_samples,
                      sc.integer("validation_samples", out.validation_samples, -1, 1 << 30));
  if (scorer.value()->needs_validation() && out.validation_samples == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      sc.where("validation_samples") + " is 0, but scorer '" + out.scorer +
                          "' measures updates on the coordinator's validation set; give it at "
                          "least 100 examples (default 1000) or choose scorer = \"cosine\"");
  }
  return read_screening_settings(sc, out.screening);
}

std::int64_t validation_samples_for(const ScoringSettings& s, const ContributionScorer& scorer) {
  return s.validation_samples >= 0 || scorer.needs_validation() ? validation_samples_held(s) : 0;
}

std::int64_t validation_samples_held(const ScoringSettings& s) {
  return s.validation_samples >= 0 ? s.validation_samples : kDefaultValidationSamples;
}

}  // namespace fl::coordinator
