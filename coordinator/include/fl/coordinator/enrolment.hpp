// Open enrolment that resists sybils: how fast new keys may register (in total and per source
// address), what a registered key needs before it is sampled (stake on the ledger, or the
// researcher's approval in a file re-read every round), and sampling that prefers workers with a
// history of answering, so keys that never answered fill at most a bounded share of a round.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/coordinator/round.hpp"

namespace fl::coordinator {

// New keys (not re-registrations) allowed a minute; 0: no limit. Applied under open enrolment.
struct EnrolmentLimits {
  double new_keys_per_minute = 120;
  double new_keys_per_source_per_minute = 20;
};

// What a registered key needs to be sampled. With both set, either suffices; with neither, any
// registered key may be sampled.
struct SamplingRequirement {
  std::uint64_t min_stake = 0;          // 0: no stake needed
  std::filesystem::path approval_file;  // hex keys, one a line ('#' comments); empty: none
  double newcomer_share = 0.25;         // most of a sample that never-answered keys may take
};

using StakeLookup = std::function<std::uint64_t(const common::PublicKey&)>;

class SamplingGate {
 public:
  // `stake_of` reads the ledger's stakes (nullptr: every stake is 0).
  SamplingGate(SamplingRequirement requirement, StakeLookup stake_of);

  // The keys of `registered` that meet the requirement now. The approval file is read again
  // when it changed; one that cannot be read keeps the last list (and says so in the log).
  std::vector<common::PublicKey> eligible(const std::vector<common::PublicKey>& registered);
  const SamplingRequirement& requirement() const { return requirement_; }

 private:
  void reload_approvals();

  SamplingRequirement requirement_;
  StakeLookup stake_of_;
  std::set<common::PublicKey> approved_;
  std::filesystem::file_time_type approvals_mtime_{};
  bool approvals_loaded_ = false;
};

// The approval file's keys; an error names the line that is not a key.
Result<std::set<common::PublicKey>> read_approval_file(const std::filesystem::path& path);

// sample_workers() over `eligible`, preferring keys with a history of answering: of the
// max(min_workers, ceil(fraction * n)) asked, keys without history take at most
// ceil(newcomer_share * want) places while any key has history (all places while none has).
// Returns the sample (sorted) and, in `newcomers`, the sampled keys without history.
std::vector<common::PublicKey> sample_preferring_history(
    const std::vector<common::PublicKey>& eligible,
    const std::function<bool(const common::PublicKey&)>& has_answered, const SamplingPolicy& policy,
    double newcomer_share, std::uint64_t seed, std::uint64_t round, std::set<common::PublicKey>& newcomers);

}  // namespace fl::coordinator
