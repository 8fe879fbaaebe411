// `fl-coordinator job-card`: the researcher's signed job card for a job config, naming the
// endpoint workers dial, the coordinator key they pin (created now if the job has none yet),
// the job id, the initial model's digest and the digest of the job's terms (job_terms.hpp).
#pragma once

#include <filesystem>
#include <string>

#include "fl/common/job_card.hpp"
#include "fl/common/result.hpp"

namespace fl::coordinator {

// `endpoint` empty: network.bind, which must then name a reachable host and a fixed port.
Result<common::JobCard> write_job_card(const std::filesystem::path& config_path,
                                       const std::string& endpoint,
                                       const std::filesystem::path& out);

}  // namespace fl::coordinator
