// The simulation engine: N virtual workers in one process, no sockets, driven by the
// coordinator's own RoundEngine and close_round (sample, send the task, validate each signed
// update, combine in worker-key order, server step, score, evaluate); only the channel differs.
// Virtual workers train on `threads` threads, each owning one model replica, so memory does not
// grow with the number of workers. Results depend only on the config and the seed, and equal
// what `fl-coordinator run` gives with fl-workers holding the same keys and shares.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/simulation/sweep_config.hpp"

namespace fl::coordinator {

// The training and test sets, loaded once and shared by every run of a sweep (torch inside).
class SimulationData {
 public:
  struct Impl;
  explicit SimulationData(std::unique_ptr<Impl> impl);
  ~SimulationData();
  SimulationData(const SimulationData&) = delete;
  SimulationData& operator=(const SimulationData&) = delete;

  std::int64_t train_size() const;
  std::int64_t test_size() const;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Fashion-MNIST (IDX files) from data_dir.
Result<std::shared_ptr<const SimulationData>> load_simulation_data(
    const std::filesystem::path& data_dir);

struct RoundRecord {
  int round = 0;              // 1-based
  double test_accuracy = 0;   // on the first eval_limit test examples
  double test_loss = 0;
  double train_loss = 0;      // sample-weighted mean over the accepted updates, as claimed
  int accepted = 0;           // updates given to the rule
  int rejected = 0;           // refused by the coordinator's validator, or tasks not done
  bool rule_refused = false;  // the rule returned an error; the global model stayed
  double top_score_share = 0; // the best-scored update's share of the round's contribution
                              // scores (0 when nothing was scored)
  std::vector<int> screened;  // the virtual workers (ids) whose update was screened out of the
                              // reward (scoring/screening.hpp)
  int copies = 0;             // updates in a copy group sharing one reward
  double scoring_seconds = 0; // screening and scoring, inside `seconds`
  double seconds = 0;
  double budget = 1;          // what the round paid: 1, or 0.1 when validation loss did not fall
  // [simulation] shapley_reference: Spearman correlation of the round's scores with its exact
  // Shapley values (shapley_reference.hpp); nullopt when not computed.
  std::optional<double> shapley_spearman;
};

struct SettingResult {
  SimulationSetting setting;
  std::string rule_name;  // canonical, with parameters, e.g. "krum(f=4)"
  std::string scorer;     // the contribution scorer's name
  std::vector<RoundRecord> rounds;
  // Per virtual worker (by id; a sybil run's extra keys after config.workers): the sum over
  // rounds of its share of each round's reward budget of 1, split by score as the ledger does.
  std::vector<double> rewards;
  std::vector<int> strategic;  // the ids playing the setting's attack or strategy
  common::Digest final_model_digest{};  // digest_of(the global model after the last round)
  double final_accuracy = 0;
  double best_accuracy = 0;
  int best_round = 0;
  double seconds = 0;
};

// Called after every round with the result so far, whose last round has just finished (for
// progress bars and CSV rows written as the sweep goes).
using SettingProgress = std::function<void(const SettingResult& so_far)>;

// Virtual worker `id`'s key for a sweep seeded with `seed` (the same key a real fl-worker can
// be given to reproduce a simulated run).
common::KeyPair virtual_worker_key(std::uint64_t seed, int id);

// Runs one setting of the sweep from a fresh model (the same initial model and partition for
// every setting with the same seed, so runs compare like for like).
Result<SettingResult> run_setting(const SweepConfig& config, const SimulationSetting& setting,
                                  const SimulationData& data, const SettingProgress& observer = {});

}  // namespace fl::coordinator
