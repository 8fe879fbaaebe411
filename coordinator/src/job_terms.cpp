#include "fl/coordinator/job_terms.hpp"

#include <algorithm>
#include <filesystem>

#include "fl/models/dataset_spec.hpp"

namespace fl::coordinator {

namespace {

// "idx:fashion-mnist, 10 classes": the spec's kind and file name (not where it
// lies here) and the model's output width.
std::string default_data(const std::string &spec, const common::TensorLayout &layout) {
  std::string text = spec;
  if (auto parsed = models::parse_dataset_spec(spec); parsed.ok()) {
    auto path = parsed->path.lexically_normal();
    if (!path.has_filename()) path = path.parent_path();
    text = parsed->format + ":" + path.filename().string();
  }
  if (!layout.tensors.empty() && !layout.tensors.back().shape.empty()) {
    text += ", " + std::to_string(layout.tensors.back().shape.back()) + " classes";
  }
  return text;
}

}  // namespace

Result<common::JobTerms> make_job_terms(const JobConfig &c, const common::TensorLayout &layout,
                                        const common::Digest &model_digest, const common::PublicKey &coordinator,
                                        const common::PublicKey &researcher) {
  common::JobTerms t;
  t.job_id = c.job_id;
  t.researcher = researcher;
  t.model = c.model;
  t.model_digest = model_digest;
  t.data = c.terms.data.empty() ? default_data(c.data, layout) : c.terms.data;
  t.purpose = c.terms.purpose.empty() ? "train " + c.model + " on " + t.data : c.terms.purpose;
  t.rounds = static_cast<std::uint64_t>(c.rounds);
  t.reward_per_round = c.reward_per_round;
  t.bounty = c.bounty;
  if (c.close.privacy.enabled()) {
    t.privacy = common::TermsPrivacy{c.close.privacy.target_epsilon, c.close.privacy.target_delta};
  }
  t.retention_days = c.terms.retention_days;
  t.readers = c.terms.readers;
  if (t.readers.empty() && t.retention_days > 0) t.readers = {"coordinators"};
  // Every member of a federation must offer the same terms (one digest on the ledger and on
  // the job card): a list that names this coordinator is taken as written; otherwise this
  // coordinator comes first.
  const auto& listed = c.terms.coordinators;
  if (std::find(listed.begin(), listed.end(), coordinator) == listed.end()) t.coordinators.push_back(coordinator);
  for (const auto &k : listed) t.coordinators.push_back(k);
  if (auto problem = common::terms_problem(t)) {
    return make_error(ErrorCode::kInvalidArgument, "the job's terms ([terms] in the config): " + *problem);
  }
  return t;
}

}  // namespace fl::coordinator
