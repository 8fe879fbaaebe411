// The one torch translation unit of the simulation: data, model replicas and local training.
#include "fl/coordinator/simulation/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "fl/common/update_attack.hpp"
#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/simulation/omniscient_attack.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"
#include "fl/models/model_fit.hpp"
#include "fl/models/partition.hpp"
#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"

namespace fl::coordinator {

struct SimulationData::Impl {
  models::Dataset train;
  models::Dataset train_flipped;  // same images, labels y -> C-1-y (label-flipping attackers)
  models::Dataset test;
  std::vector<std::int64_t> train_labels;
};

SimulationData::SimulationData(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SimulationData::~SimulationData() = default;
std::int64_t SimulationData::train_size() const { return impl_->train.size(); }
std::int64_t SimulationData::test_size() const { return impl_->test.size(); }

Result<std::shared_ptr<const SimulationData>> load_simulation_data(
    const std::filesystem::path& data_dir) {
  auto impl = std::make_unique<SimulationData::Impl>();
  FL_ASSIGN_OR_RETURN(impl->train, models::load_dataset(data_dir.string(), models::Split::kTrain));
  FL_ASSIGN_OR_RETURN(impl->test, models::load_dataset(data_dir.string(), models::Split::kTest));
  impl->train_labels = models::labels_of(impl->train);
  impl->train_flipped = impl->train;
  impl->train_flipped.labels = (impl->train.num_classes - 1) - impl->train.labels;
  return std::shared_ptr<const SimulationData>(std::make_shared<SimulationData>(std::move(impl)));
}

namespace {

using Clock = std::chrono::steady_clock;

// SplitMix64 finaliser: independent-looking seeds from (seed, round, worker) tuples.
std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool is_finite(std::span<const float> v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Each worker's examples: its partition, capped to max_samples (a seeded subset, kept sorted).
Result<std::vector<std::vector<std::int64_t>>> worker_shards(const SweepConfig& config,
                                                             const SimulationSetting& setting,
                                                             const SimulationData::Impl& data) {
  FL_ASSIGN_OR_RETURN(auto spec, models::parse_partition(setting.partition));
  spec.seed = config.seed;
  FL_ASSIGN_OR_RETURN(auto shards, models::partition(data.train_labels, data.train.num_classes,
                                                     config.workers, spec));
  if (config.max_samples_per_worker > 0) {
    const auto cap = static_cast<std::size_t>(config.max_samples_per_worker);
    for (std::size_t w = 0; w < shards.size(); ++w) {
      auto& shard = shards[w];
      if (shard.size() <= cap) continue;
      std::mt19937_64 rng(mix(config.seed, 1000 + w));
      std::shuffle(shard.begin(), shard.end(), rng);
      shard.resize(cap);
      std::sort(shard.begin(), shard.end());
    }
  }
  return shards;
}

std::vector<bool> byzantine_mask(const SweepConfig& config, int byzantine) {
  std::vector<int> ids(static_cast<std::size_t>(config.workers));
  std::iota(ids.begin(), ids.end(), 0);
  if (config.attack.byzantine_random) {
    std::mt19937_64 rng(mix(config.seed, 77));
    std::shuffle(ids.begin(), ids.end(), rng);
  }
  std::vector<bool> mask(ids.size(), false);
  for (int i = 0; i < byzantine; ++i) mask[static_cast<std::size_t>(ids[i])] = true;
  return mask;
}

std::vector<int> sample_workers(const SweepConfig& config, int round) {
  std::vector<int> ids(static_cast<std::size_t>(config.workers));
  std::iota(ids.begin(), ids.end(), 0);
  if (config.sample_fraction >= 1.0) return ids;
  const auto k = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::lround(config.sample_fraction * config.workers)));
  std::mt19937_64 rng(mix(config.seed, 1'000'000 + static_cast<std::uint64_t>(round)));
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(k);
  std::sort(ids.begin(), ids.end());  // updates are aggregated in worker-id order
  return ids;
}

bool trains(ByzantineAttack attack) {
  return attack == ByzantineAttack::kNone || attack == ByzantineAttack::kLabelFlip ||
         attack == ByzantineAttack::kSignFlip || attack == ByzantineAttack::kScaled;
}

struct WorkerUpdate {
  int id = 0;
  bool byzantine = false;
  std::vector<float> values;
  double weight = 0;
  double train_loss = 0;
  std::int64_t trained_samples = 0;
};

// One round's local training: every sampled worker that trains does so from `global`, on one of
// `replicas.size()` threads. Results depend on the worker id and round only, not on the thread.
void train_round(const SweepConfig& config, const SimulationData::Impl& data,
                 const std::vector<std::vector<std::int64_t>>& shards, ByzantineAttack attack,
                 int round, std::span<const float> global,
                 std::vector<std::unique_ptr<models::Model>>& replicas,
                 std::vector<WorkerUpdate>& updates) {
  std::atomic<std::size_t> next{0};
  auto work = [&](std::size_t t) {
    models::set_compute_threads(1);
    auto& model = *replicas[t];
    for (std::size_t i = next++; i < updates.size(); i = next++) {
      auto& u = updates[i];
      if (u.byzantine && !trains(attack)) continue;
      (void)model.set_flat_parameters(global);  // same layout by construction
      const auto options = models::train_options(
          config.training, mix(mix(config.seed, static_cast<std::uint64_t>(round)),
                               static_cast<std::uint64_t>(u.id)));
      const bool flip = u.byzantine && attack == ByzantineAttack::kLabelFlip;
      const auto result = models::train_local(model, flip ? data.train_flipped : data.train,
                                              shards[static_cast<std::size_t>(u.id)], options);
      if (!result.ok()) continue;  // no values: counted as a rejected update, like a failed worker
      u.values = model.flat_parameters();
      for (std::size_t j = 0; j < u.values.size(); ++j) u.values[j] -= global[j];
      u.train_loss = result->mean_loss;
      u.trained_samples = result->num_samples;
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < replicas.size(); ++t) threads.emplace_back(work, t);
  work(0);
  for (auto& th : threads) th.join();
}

// Turns the Byzantine workers' slots into their attack vectors.
Status apply_attacks(const SweepConfig& config, ByzantineAttack attack, int round,
                     std::size_t num_parameters, std::vector<WorkerUpdate>& updates) {
  std::vector<std::span<const float>> honest;
  int n = 0, f = 0;
  for (const auto& u : updates) {
    ++n;
    if (u.byzantine) ++f;
    else honest.push_back(u.values);
  }
  if (f == 0) return ok_status();
  std::vector<float> omniscient;
  if (attack == ByzantineAttack::kAlie) {
    double z = config.attack.alie_z;
    if (config.attack.alie_z_from_formula) {
      FL_ASSIGN_OR_RETURN(auto threshold, alie_threshold(n, f));
      z = threshold.z;
    }
    FL_ASSIGN_OR_RETURN(omniscient, alie_update(honest, z));
  } else if (attack == ByzantineAttack::kIpm) {
    FL_ASSIGN_OR_RETURN(omniscient, ipm_update(honest, config.attack.ipm_epsilon));
  }
  for (auto& u : updates) {
    if (!u.byzantine) continue;
    switch (attack) {
      case ByzantineAttack::kNone:
      case ByzantineAttack::kLabelFlip:
        break;
      case ByzantineAttack::kSignFlip:
        common::scale_update(u.values, config.attack.sign_flip_scale);
        break;
      case ByzantineAttack::kScaled:
        common::scale_update(u.values, config.attack.scaled_factor);
        break;
      case ByzantineAttack::kGaussian:
        u.values.assign(num_parameters, 0.0f);
        common::gaussian_update(u.values, config.attack.gaussian_sigma,
                                mix(config.seed, 5000 + static_cast<std::uint64_t>(u.id)),
                                static_cast<std::uint64_t>(round));
        break;
      case ByzantineAttack::kAlie:
      case ByzantineAttack::kIpm:
        u.values = omniscient;
        break;
    }
  }
  return ok_status();
}

// Scores the round's accepted updates like the coordinator does; returns the top scorer's share
// of the scores' sum (1/n when all score alike, 1 when one update takes everything).
Result<double> top_score_share(ContributionScorer& scorer, std::span<const UpdateView> views,
                               std::span<const float> aggregate, std::span<const float> global) {
  std::vector<std::span<const float>> updates;
  std::vector<std::uint64_t> samples;
  for (const auto& v : views) {
    updates.push_back(v.values);
    samples.push_back(static_cast<std::uint64_t>(v.weight));
  }
  FL_ASSIGN_OR_RETURN(auto scores, scorer.score({updates, samples, aggregate, global}));
  const double sum = std::accumulate(scores.begin(), scores.end(), 0.0);
  if (!(sum > 0)) return 0.0;
  return *std::max_element(scores.begin(), scores.end()) / sum;
}

}  // namespace

Result<SettingResult> run_setting(const SweepConfig& config, const SimulationSetting& setting,
                                  const SimulationData& shared, const SettingProgress& observer) {
  const auto& data = shared.impl();
  const auto start = Clock::now();
  FL_ASSIGN_OR_RETURN(auto shards, worker_shards(config, setting, data));
  const auto byzantine = byzantine_mask(config, setting.byzantine);

  FL_ASSIGN_OR_RETURN(auto evaluator, models::make_model(config.model, config.seed));
  FL_RETURN_IF_ERROR(models::check_model_fits(*evaluator, data.test));
  std::vector<float> global = evaluator->flat_parameters();
  std::vector<std::unique_ptr<models::Model>> replicas;
  for (int t = 0; t < config.threads; ++t) {
    FL_ASSIGN_OR_RETURN(auto replica, models::make_model(config.model, config.seed));
    replicas.push_back(std::move(replica));
  }
  RuleOptions options = config.rule_options;
  if (!config.fixed_f) options.f = setting.byzantine;
  FL_ASSIGN_OR_RETURN(auto rule, make_rule(setting.rule, options));
  FL_ASSIGN_OR_RETURN(auto scorer, make_scorer(config.scorer));

  SettingResult result;
  result.setting = setting;
  result.rule_name = rule->name();
  for (int round = 1; round <= config.rounds; ++round) {
    const auto round_start = Clock::now();
    std::vector<WorkerUpdate> updates;
    for (int id : sample_workers(config, round)) {
      WorkerUpdate u;
      u.id = id;
      u.byzantine = byzantine[static_cast<std::size_t>(id)];
      u.weight = static_cast<double>(shards[static_cast<std::size_t>(id)].size());
      updates.push_back(std::move(u));
    }
    train_round(config, data, shards, setting.attack, round, global, replicas, updates);
    FL_RETURN_IF_ERROR(apply_attacks(config, setting.attack, round, global.size(), updates));

    RoundRecord record;
    record.round = round;
    double loss_sum = 0, sample_sum = 0;
    std::vector<UpdateView> views;
    for (const auto& u : updates) {  // already in worker-id order
      if (u.values.size() != global.size() || !is_finite(u.values)) {
        ++record.rejected;
        continue;
      }
      views.push_back({u.values, u.weight});
      if (!u.byzantine) {
        loss_sum += u.train_loss * static_cast<double>(u.trained_samples);
        sample_sum += static_cast<double>(u.trained_samples);
      }
    }
    record.accepted = static_cast<int>(views.size());
    record.train_loss = sample_sum > 0 ? loss_sum / sample_sum : 0;
    if (!views.empty()) {
      auto aggregate = rule->aggregate(views);
      if (aggregate.ok()) {
        FL_ASSIGN_OR_RETURN(record.top_score_share,
                            top_score_share(*scorer, views, *aggregate, global));
        const auto lr = static_cast<float>(config.server_learning_rate);
        for (std::size_t j = 0; j < global.size(); ++j) global[j] += lr * (*aggregate)[j];
      } else {
        record.rule_refused = true;  // like the coordinator: log-worthy, the model stays
      }
    }

    models::set_compute_threads(config.threads);
    FL_RETURN_IF_ERROR(evaluator->set_flat_parameters(global));
    FL_ASSIGN_OR_RETURN(const auto eval,
                        models::evaluate(*evaluator, data.test, 1000,
                                         config.eval_limit > 0 ? config.eval_limit : -1));
    record.test_accuracy = eval.accuracy;
    record.test_loss = eval.loss;
    record.seconds = std::chrono::duration<double>(Clock::now() - round_start).count();
    if (record.test_accuracy > result.best_accuracy || round == 1) {
      result.best_accuracy = record.test_accuracy;
      result.best_round = round;
    }
    result.final_accuracy = record.test_accuracy;
    result.rounds.push_back(record);
    if (observer) observer(result);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace fl::coordinator
