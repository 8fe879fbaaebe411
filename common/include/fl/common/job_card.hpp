// The job card: one small signed file a researcher hands to device owners, naming where the job
// runs (endpoint), the coordinator key the worker pins, the job id, the researcher key that
// signed the card, the initial model's digest and the digest of the job's terms
// (job_terms.hpp). A worker given a card refuses any coordinator that cannot prove the card's
// key, or that offers other terms.
#pragma once

#include <filesystem>
#include <string>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

struct JobCard {
  std::string endpoint;  // tcp://HOST:PORT
  PublicKey coordinator_key{};
  std::string job_id;
  PublicKey researcher_key{};
  Digest model_digest{};  // digest_of(the initial global parameters)
  Digest terms_digest{};  // common::terms_digest() of the job's terms
  Signature signature{};  // the researcher's, over job_card_digest()
};

Digest job_card_digest(const JobCard& card);
// Sets researcher_key and signature.
void sign_job_card(JobCard& card, const KeyPair& researcher);
Status verify_job_card(const JobCard& card);

// Text file: "fedledger-job-card-v1" then one "field value" line per field.
Status save_job_card(const std::filesystem::path& path, const JobCard& card);
// Reads and verifies the signature; errors name the file and the field.
Result<JobCard> load_job_card(const std::filesystem::path& path);

}  // namespace fl::common
