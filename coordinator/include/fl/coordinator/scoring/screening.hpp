// Free-rider and copy screening, before scoring: each accepted update is compared with what the
// coordinator can produce without any data (a zero update, noise, the last global changes, the
// worker's own previous updates). An update too close to one of them earns nothing, with the
// reason recorded. Near-duplicate updates from different keys in one round (cosine above a
// threshold, or the same registered dataset fingerprint) are one copy group and share a single
// reward. No torch; the per-worker history is a fixed-size count sketch of each update.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "fl/common/config_table.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::coordinator {

struct ScreeningSettings {
  bool enabled = true;               // false: research mode, logged
  double zero_norm_fraction = 1e-3;  // norm below this x the round's median norm: a zero update
  double replay_cosine = 0.9;        // cosine with a recent global change or own update: a replay
  double duplicate_cosine = 0.99;    // cosine between two keys' updates: one copy group
  // An update whose cosine with what the other workers agree on (their mean) is within
  // noise_sigmas / sqrt(dimension) of 0 carries no more signal than noise.
  double noise_sigmas = 3.0;
  int history_rounds = 2;  // global changes and own updates remembered
  // A replay or copy must also be this much closer than is typical in the round: 1 - cosine at
  // most `relative` x the round's median of 1 - cosine (so an IID federation whose honest
  // updates all follow the last change is not flagged); with 0 only exact copies are flagged.
  // A repeat of its own update must have 1 - cosine at most relative x (1 - replay_cosine).
  double relative = 0.25;
};
// [scoring] keys: screen_free_riders, zero_norm_fraction, replay_cosine, duplicate_cosine,
// noise_sigmas, history_rounds, screen_relative. Absent keys keep the values in `out`.
Status read_screening_settings(const common::ConfigTable& scoring, ScreeningSettings& out);

// A count sketch (seeded signs and buckets) of a vector: cosines of sketches approximate the
// cosines of the vectors, in 4 KiB per sketch whatever the model size.
std::vector<float> count_sketch(std::span<const float> v);

// What the coordinator remembers between rounds for screening.
class ScreeningHistory {
 public:
  explicit ScreeningHistory(int rounds = 2) : rounds_(rounds < 1 ? 1 : rounds) {}
  // After a round closes: the global change it made, and a sketch of each accepted update.
  void record_round(std::uint64_t round, std::span<const float> global_change,
                    std::span<const common::PublicKey> workers,
                    std::span<const std::span<const float>> updates);
  // The same, with the updates' sketches already taken (Screening::sketches).
  void record_sketched_round(std::uint64_t round, std::span<const float> global_change,
                    std::span<const common::PublicKey> workers,
                    std::vector<std::vector<float>> sketches);
  struct GlobalChange {
    std::uint64_t round = 0;
    std::vector<float> change;
  };
  struct OwnUpdate {
    std::uint64_t round = 0;
    std::vector<float> sketch;
  };
  const std::deque<GlobalChange>& global_changes() const { return global_changes_; }
  const std::deque<OwnUpdate>* own_updates(const common::PublicKey& worker) const;

 private:
  int rounds_;
  std::deque<GlobalChange> global_changes_;  // newest first
  std::map<common::PublicKey, std::deque<OwnUpdate>> own_;
};

struct ScreeningInput {
  std::span<const std::span<const float>> updates;  // as received (before norm bounds)
  std::span<const common::PublicKey> workers;       // same order
  std::span<const std::string> fingerprints;        // registered dataset fingerprints, or empty
};

struct Screening {
  std::vector<std::string> reasons;  // per update: "" or why it earns nothing
  std::vector<int> copy_group;       // per update: -1, or the group id it shares a reward with
  std::vector<std::vector<float>> sketches;  // per update: count_sketch, for the history
  int flagged() const;               // updates with a reason
};

Screening screen_updates(const ScreeningInput& input, const ScreeningHistory& history,
                         const ScreeningSettings& settings);

// Scores after screening: 0 for a flagged update; a copy group's members each get the group's
// mean score divided by its size, so the group together earns one member's share.
std::vector<double> apply_screening(std::span<const double> scores, const Screening& screening);

}  // namespace fl::coordinator
