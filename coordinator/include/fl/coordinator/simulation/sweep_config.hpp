// The sweep a researcher asks `fl-coordinator simulate` to run, as written in sweep.toml: one
// model and data set, the round settings shared by every run, and the lists whose product is
// the set of runs (rules x attacks x Byzantine counts x partitions). Every value is checked at
// load time and an error names the file and key; unknown keys are errors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/common/training_settings.hpp"
#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/scoring/scoring_context.hpp"
#include "fl/coordinator/update_bounds.hpp"

namespace fl::coordinator {

// What the Byzantine workers of a run do. Label flipping trains on y -> C-1-y; sign flipping
// and scaled multiply their honest update; Gaussian sends N(0, sigma^2) noise; ALIE and IPM
// (omniscient_attack.hpp) are computed from the round's honest updates.
// The strategic ones test the incentives, as fl-worker --attack does: zero, noise (sigma =
// free_rider_sigma), replay_global (g_r - g_{r-1}, no training), replay_noise, lazy (trains on
// lazy_fraction, claims all), inflate_samples (claims claimed_samples). sybil: worker 0 and
// sybil_keys - 1 extra keys on worker 0's share (the other workers stay as in the clean run);
// rich: worker 0 holds rich_factor x max_samples_per_worker examples.
enum class ByzantineAttack {
  kNone, kLabelFlip, kSignFlip, kGaussian, kScaled, kAlie, kIpm,
  kZero, kNoise, kReplayGlobal, kReplayNoise, kLazy, kInflateSamples, kSybil, kRich,
};
// True for the strategies above that game the rewards rather than the model.
bool is_strategic(ByzantineAttack attack);

Result<ByzantineAttack> parse_byzantine_attack(std::string_view name);
std::string_view to_string(ByzantineAttack attack);

struct AttackParameters {
  double sign_flip_scale = -1.0;  // sign_flip: delta <- scale * delta (scale < 0)
  double scaled_factor = 10.0;    // scaled: delta <- factor * delta
  double gaussian_sigma = 1.0;    // gaussian: N(0, sigma^2) per coordinate
  bool alie_z_from_formula = true;
  double alie_z = 0;              // used when alie_z_from_formula is false
  double ipm_epsilon = 0.1;       // ipm: -epsilon * honest mean
  bool byzantine_random = false;  // false: workers 0..b-1; true: b ids drawn with the seed
  double free_rider_sigma = 1e-2;      // noise, replay_noise
  double lazy_fraction = 0.01;         // lazy
  std::uint64_t claimed_samples = 1'000'000;  // inflate_samples
  int rich_factor = 10;                // rich
  int sybil_keys = 3;                  // sybil: keys the owner runs on one share
};

struct SweepConfig {
  std::string source_text;  // the file verbatim, copied beside the results
  // [simulation]
  std::string name = "sweep";
  std::string model = "mlp";
  std::uint64_t seed = 1;
  int rounds = 20;
  int workers = 20;
  double sample_fraction = 1.0;
  int threads = 2;  // virtual workers trained in parallel, one model replica each
  // Exact Shapley per round of the clean runs (no attack), to rank-correlate the scorer with
  // (scoring.md); 2^n test-set evaluations a round.
  bool shapley_reference = false;
  // Test examples the Shapley reference's utility is measured on: the first N of the test split
  // the scorers' validation set is not taken from (0: all of it; accuracy on fewer moves in
  // coarser steps, and coalitions tie).
  std::int64_t shapley_eval_limit = 0;
  std::filesystem::path output_dir = "runs/sweep";
  // [data]
  std::filesystem::path data_dir = "/usr/share/datasets/fashion-mnist";
  std::int64_t max_samples_per_worker = 0;  // 0: the worker's whole partition
  std::int64_t eval_limit = 0;              // 0: the whole test set
  // [training]
  common::TrainingSettings training{.batch_size = 32};
  // [aggregation]
  RuleOptions rule_options;  // f is overridden per run unless fixed_f is set
  bool fixed_f = false;
  CloseSettings close;  // server learning rate and the bounds on claims and norms
  // [scoring]
  // cosine unless [scoring] scorer says otherwise (research sweeps stay cheap); overridden per
  // run by [sweep] scorers when given.
  ScoringSettings scoring{.scorer = "cosine"};
  // [attack]
  AttackParameters attack;
  // [sweep]
  std::vector<std::string> rules = {"fedavg"};
  std::vector<ByzantineAttack> attacks = {ByzantineAttack::kNone};
  std::vector<int> byzantine_counts = {0};
  std::vector<std::string> partitions = {"iid"};
  std::vector<std::string> scorers;  // empty: [scoring] scorer only
};

// One run of the sweep.
struct SimulationSetting {
  std::string rule;
  ByzantineAttack attack = ByzantineAttack::kNone;
  int byzantine = 0;      // Byzantine workers among config.workers
  std::string partition;  // "iid", "dirichlet:1", "shards:2"
  std::string scorer;     // "": [scoring] scorer; else one of [sweep] scorers

  // "median/sign_flip/f4/dirichlet:1" (then "/scorer" when the sweep lists scorers): what
  // --filter matches and the progress bar shows.
  std::string id() const;
};

Result<SweepConfig> load_sweep_config(const std::filesystem::path& path);
// Relative paths (output_dir, data_dir) are resolved against base_dir.
Result<SweepConfig> parse_sweep_config(std::string_view text, const std::string& source_name,
                                       const std::filesystem::path& base_dir);

// The runs in sweep order (partition, Byzantine count, attack, rule, scorer). An attack other than
// "none" with zero Byzantine workers would repeat the clean run and is left out.
std::vector<SimulationSetting> expand_sweep(const SweepConfig& config);

}  // namespace fl::coordinator
