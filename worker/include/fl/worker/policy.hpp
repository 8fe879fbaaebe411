// A device owner's policy (TOML): which jobs this worker serves and what it lets them use.
// Before registering, the worker checks the job's terms (common::JobTerms) against it and
// refuses with the clause that failed; only then does it sign its consent to the terms.
//
//   [policy]
//   researchers = ["<64 hex digits>", ...]  # serve only these researchers' jobs (default: any)
//   min_reward_per_round = 100      # the job's reward per round (all workers together)
//   max_epsilon = 8.0               # the job's DP target must be at most this (no DP: refused)
//   require_dp = true               # the job must make a DP promise
//   max_rounds = 200                # the longest job it joins
//   max_retention_days = 30         # how long the job may keep this worker's updates
//   models = ["mlp", "cnn"]         # model kinds it runs ("torchscript" for shipped files)
//   hours = "22-7"                  # local hours it may train (wraps midnight; default: all)
//   threads = 2                     # CPU threads for training, at most
//   memory_mb = 4096                # address space the worker may use (setrlimit RLIMIT_DATA)
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/common/result.hpp"

namespace fl::worker {

struct TrainingHours {
  int start = 0;  // first local hour it may train, 0..23
  int end = 24;   // first hour it may not, 1..24; end < start wraps midnight
};

struct WorkerPolicy {
  std::string source;  // the file, for messages ("policy.toml")
  std::vector<common::PublicKey> researchers;  // empty: any
  std::uint64_t min_reward_per_round = 0;
  std::optional<double> max_epsilon;
  bool require_dp = false;
  std::uint64_t max_rounds = 0;  // 0: any
  std::optional<std::uint64_t> max_retention_days;
  std::vector<std::string> models;  // empty: any
  std::optional<TrainingHours> hours;
  int threads = 0;             // 0: no limit
  std::uint64_t memory_mb = 0;  // 0: no limit
};

// Errors name the file and key (an unknown key is an error, so a typo cannot loosen a policy).
Result<WorkerPolicy> load_policy(const std::filesystem::path& path);
Result<WorkerPolicy> parse_policy(std::string_view text, const std::string& source_name);

// The first clause the terms break, as "policy.toml: max_epsilon = 3, but ..."; nullopt: accepted.
std::optional<std::string> policy_refusal(const WorkerPolicy& policy, const common::JobTerms& terms);

// Whether the local time `now` is inside the policy's training hours (always, without hours).
bool may_train_at(const WorkerPolicy& policy, std::time_t now);
std::string to_string(const TrainingHours& hours);  // "22-7"

// Applies threads and memory_mb to this process (threads: caps `threads`, the torch threads).
Status apply_resource_limits(const WorkerPolicy& policy, int& threads);

}  // namespace fl::worker
