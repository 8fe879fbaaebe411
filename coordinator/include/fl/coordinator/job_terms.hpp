// The terms a job opens with (common::JobTerms), built from its config: purpose, data and
// retention from [terms], model, rounds, reward, bounty and DP target from the rest, the initial
// model's digest, and the coordinators allowed to run it (this one first). `run` signs them
// with the researcher key, offers them to every worker before it registers, and records them
// with the job on the ledger; `job-card` puts their digest on the card.
#pragma once

#include "fl/common/job_terms.hpp"
#include "fl/common/tensor_codec.hpp"
#include "fl/coordinator/job_config.hpp"

namespace fl::coordinator {

Result<common::JobTerms> make_job_terms(const JobConfig& config, const common::TensorLayout& layout,
                                        const common::Digest& model_digest, const common::PublicKey& coordinator,
                                        const common::PublicKey& researcher);

}  // namespace fl::coordinator
