// `simulate`'s runs: the coordinator's round engine and close_round over virtual workers (see
// virtual_workers.hpp), with a fresh model per setting. The one torch unit besides the workers.
#include "fl/coordinator/simulation/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <numeric>
#include <random>

#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/round.hpp"
#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/scoring/shapley.hpp"
#include "fl/ledger/rewards.hpp"
#include "fl/models/model_fit.hpp"
#include "fl/models/partition.hpp"
#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"
#include "../round_validation.hpp"
#include "../scoring/torch_validation.hpp"
#include "shapley_reference.hpp"
#include "virtual_workers.hpp"

namespace fl::coordinator {

SimulationData::SimulationData(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SimulationData::~SimulationData() = default;
std::int64_t SimulationData::train_size() const { return impl_->train.size(); }
std::int64_t SimulationData::test_size() const { return impl_->test.size(); }

Result<std::shared_ptr<const SimulationData>> load_simulation_data(const std::filesystem::path& data_dir) {
  auto impl = std::make_unique<SimulationData::Impl>();
  FL_ASSIGN_OR_RETURN(impl->train, models::load_dataset(data_dir.string(), models::Split::kTrain));
  FL_ASSIGN_OR_RETURN(impl->test, models::load_dataset(data_dir.string(), models::Split::kTest));
  impl->train_labels = models::labels_of(impl->train);
  impl->train_flipped = impl->train;
  impl->train_flipped.labels = (impl->train.num_classes - 1) - impl->train.labels;
  return std::shared_ptr<const SimulationData>(std::make_shared<SimulationData>(std::move(impl)));
}

common::KeyPair virtual_worker_key(std::uint64_t seed, int id) {
  return common::key_pair_from_label("fedledger-virtual-worker/" + std::to_string(seed) + "/" + std::to_string(id));
}

namespace {

using Clock = std::chrono::steady_clock;

std::vector<bool> byzantine_mask(const SweepConfig& config, int byzantine) {
  std::vector<int> ids(static_cast<std::size_t>(config.workers));
  std::iota(ids.begin(), ids.end(), 0);
  if (config.attack.byzantine_random) {
    std::mt19937_64 rng(config.seed * 0x9e3779b97f4a7c15ULL + 77);
    std::shuffle(ids.begin(), ids.end(), rng);
  }
  std::vector<bool> mask(ids.size(), false);
  for (int i = 0; i < byzantine; ++i) mask[static_cast<std::size_t>(ids[static_cast<std::size_t>(i)])] = true;
  return mask;
}

// Each virtual worker's key, share (as fl-worker takes it) and role.
Result<std::vector<VirtualWorker>> virtual_workers(const SweepConfig& config, const SimulationSetting& setting,
                                                   const SimulationData::Impl& data) {
  FL_ASSIGN_OR_RETURN(auto spec, models::parse_partition(setting.partition));
  spec.seed = config.seed;
  const auto byzantine = byzantine_mask(config, setting.byzantine);
  std::vector<VirtualWorker> out;
  const bool rich = setting.attack == ByzantineAttack::kRich;
  for (int id = 0; id < config.workers; ++id) {
    const bool strategic = byzantine[static_cast<std::size_t>(id)];
    // rich: the strategic worker holds rich_factor x the others' examples (the cap they share).
    const auto cap = rich && strategic && config.max_samples_per_worker > 0
                         ? config.max_samples_per_worker * config.attack.rich_factor
                         : config.max_samples_per_worker;
    FL_ASSIGN_OR_RETURN(auto share, models::worker_share(data.train_labels, data.train.num_classes, spec, id,
                                                         config.workers, cap));
    out.push_back({virtual_worker_key(config.seed, id), std::move(share), strategic});
  }
  if (setting.attack == ByzantineAttack::kSybil) {
    // Worker 0 and b-1 extra keys on its share are the sybil owner; the rest are as in the
    // clean run, so their rewards compare one to one.
    for (auto& w : out) w.byzantine = false;
    out[0].byzantine = true;
    for (int extra = 1; extra < config.attack.sybil_keys; ++extra) {
      out.push_back({virtual_worker_key(config.seed, config.workers + extra - 1), out[0].share, true});
    }
  }
  return out;
}

class TestSetEvaluator final : public ModelEvaluator {
 public:
  TestSetEvaluator(models::Model& model, const models::Dataset& test, std::int64_t limit, int threads)
      : model_(model), test_(test), limit_(limit > 0 ? limit : -1), threads_(threads) {}
  Result<EvalMetrics> evaluate(std::span<const float> parameters) override {
    const auto start = Clock::now();
    models::set_compute_threads(threads_);
    FL_RETURN_IF_ERROR(model_.set_flat_parameters(parameters));
    FL_ASSIGN_OR_RETURN(const auto eval, models::evaluate(model_, test_, 1000, limit_));
    return EvalMetrics{eval.loss, eval.accuracy, eval.num_samples,
                       std::chrono::duration<double>(Clock::now() - start).count()};
  }

 private:
  models::Model& model_;
  const models::Dataset& test_;
  std::int64_t limit_;
  int threads_;
};

// The engine's settings for a sweep: the coordinator's sampling and closing rules; every
// virtual worker answers at once, so rounds close with "all answered".
EngineSettings simulation_engine_settings(const SweepConfig& config, const common::TensorLayout& layout) {
  EngineSettings s;
  s.job_id = "simulate/" + config.name;
  s.model = config.model;
  s.layout = layout;
  s.task_template.training = config.training;
  s.task_template.privacy = task_privacy(config.close.privacy);
  s.seed = config.seed;
  s.sampling = {config.sample_fraction, 1};
  s.quorum_fraction = 1.0;
  s.soft_deadline_s = 1e6;
  s.deadline_s = 1e6;
  s.heartbeat_timeout_s = 0;
  return s;
}

double top_score_share(std::span<const double> scores) {
  const double sum = std::accumulate(scores.begin(), scores.end(), 0.0);
  if (!(sum > 0)) return 0.0;
  return *std::max_element(scores.begin(), scores.end()) / sum;
}

}  // namespace

Result<SettingResult> run_setting(const SweepConfig& config, const SimulationSetting& setting,
                                  const SimulationData& shared, const SettingProgress& observer) {
  const auto& data = shared.impl();
  const auto start = Clock::now();
  FL_ASSIGN_OR_RETURN(auto workers, virtual_workers(config, setting, data));
  FL_ASSIGN_OR_RETURN(auto evaluator_model, models::make_model(config.model, config.seed));
  FL_RETURN_IF_ERROR(models::check_model_fits(*evaluator_model, data.test));
  std::vector<std::unique_ptr<models::Model>> replicas;
  for (int t = 0; t < std::max(config.threads, 1); ++t) {
    FL_ASSIGN_OR_RETURN(auto replica, models::make_model(config.model, config.seed));
    replicas.push_back(std::move(replica));
  }
  RuleOptions options = config.rule_options;
  if (!config.fixed_f) options.f = setting.byzantine;
  FL_ASSIGN_OR_RETURN(auto rule, make_rule(setting.rule, options));
  FL_ASSIGN_OR_RETURN(auto scorer, make_scorer(setting.scorer.empty() ? config.scoring.scorer : setting.scorer));
  auto [validation_set, test_set] = split_validation(data.test, validation_samples_for(config.scoring, *scorer));
  std::unique_ptr<ValidationOracle> validation;
  if (validation_set.size() > 0) {
    FL_ASSIGN_OR_RETURN(auto validation_model, models::make_model(config.model, config.seed));
    validation = make_validation_oracle(std::move(validation_model), validation_set, config.training,
                                        config.seed, config.threads);
  }
  ScreeningHistory history(config.scoring.screening.history_rounds);
  ScoringContext scoring{*scorer, validation.get(), &history, config.scoring.screening, {}};

  std::vector<common::PublicKey> keys;
  std::map<common::PublicKey, std::size_t> worker_ids;
  std::vector<int> strategic;
  for (const auto& w : workers) {
    if (w.byzantine) strategic.push_back(static_cast<int>(keys.size()));
    worker_ids.emplace(w.key.public_key, keys.size());
    keys.push_back(w.key.public_key);
  }
  WorkerRegistry registry(false, keys);
  std::vector<float> global = evaluator_model->flat_parameters();
  VirtualWorkers channel(config, setting.attack, data, std::move(workers), std::move(replicas));
  const std::atomic<bool> never_stop{false};
  const auto coordinator_key = common::key_pair_from_label("fedledger-simulate-coordinator");
  RoundEngine engine(simulation_engine_settings(config, evaluator_model->layout()), channel, registry,
                     coordinator_key, never_stop);
  TestSetEvaluator evaluator(*evaluator_model, test_set, config.eval_limit, config.threads);
  // The Shapley reference's utility: the same examples whichever scorer runs (the test split
  // without the configured validation set), measured with the evaluator's model.
  const auto shapley_set = split_validation(data.test, validation_samples_held(config.scoring)).second;
  TestSetEvaluator shapley_evaluator(*evaluator_model, shapley_set, config.shapley_eval_limit, config.threads);
  // Every virtual worker registers before round 1 (they are all there from the start).
  for (std::size_t i = 0; i < 4 * keys.size() && registry.size() < keys.size(); ++i) {
    engine.pump(std::chrono::milliseconds(0));
  }

  SettingResult result;
  result.setting = setting;
  result.rule_name = rule->name();
  result.scorer = scorer->name();
  result.rewards.assign(keys.size(), 0.0);
  result.strategic = strategic;
  for (int round = 1; round <= config.rounds; ++round) {
    const auto round_start = Clock::now();
    const auto r = static_cast<std::uint64_t>(round);
    FL_ASSIGN_OR_RETURN(auto collected, engine.collect(r, global, common::digest_of(global)));
    std::vector<std::string> fingerprints;
    for (const auto& u : collected.accepted) {
      const auto* rec = registry.find(u.header.worker_key);
      fingerprints.push_back(rec ? rec->registration.dataset_fingerprint : "");
    }
    scoring.fingerprints = fingerprints;
    FL_ASSIGN_OR_RETURN(auto closed, close_round(global, collected, *rule, scoring, evaluator,
                                                 config.close));
    std::optional<double> shapley_spearman;
    double reference_seconds = 0;  // not part of the round's time: the reference is a measurement
    // Honest runs only: the correlation target is for honest federations.
    if (config.shapley_reference && setting.attack == ByzantineAttack::kNone && setting.byzantine == 0) {
      const auto reference_start = Clock::now();
      FL_ASSIGN_OR_RETURN(auto phi, exact_round_shapley(global, collected, config.close.server_learning_rate,
                                                        shapley_evaluator));
      if (phi) shapley_spearman = spearman(closed.scores, *phi);
      reference_seconds = std::chrono::duration<double>(Clock::now() - reference_start).count();
    }
    global = std::move(closed.global);
    result.final_model_digest = closed.model_digest;
    // Each round's reward budget (1, or a tenth when the validation loss did not go down) split
    // in proportion to the scores, as the ledger does.
    const double budget = ledger::improvement_share(validation_record(closed));
    double score_sum = 0;
    for (double v : closed.scores) score_sum += std::max(v, 0.0);
    for (std::size_t i = 0; i < collected.accepted.size() && score_sum > 0; ++i) {
      const auto id = worker_ids.find(collected.accepted[i].header.worker_key);
      if (id != worker_ids.end()) result.rewards[id->second] += budget * std::max(closed.scores[i], 0.0) / score_sum;
    }

    RoundRecord record;
    record.round = round;
    record.accepted = static_cast<int>(collected.accepted.size());
    record.rejected = static_cast<int>(collected.rejected.size() + collected.task_failures.size());
    record.rule_refused = closed.outcome.rfind("rule refused", 0) == 0;
    record.train_loss = closed.train_loss;
    record.top_score_share = top_score_share(closed.scores);
    record.test_accuracy = closed.eval.accuracy;
    record.test_loss = closed.eval.loss;
    for (std::size_t i = 0; i < collected.accepted.size() && i < closed.score_reasons.size(); ++i) {
      const auto id = worker_ids.find(collected.accepted[i].header.worker_key);
      if (!closed.score_reasons[i].empty() && id != worker_ids.end()) record.screened.push_back(id->second);
    }
    record.copies = closed.copies;
    record.scoring_seconds = closed.scoring_seconds;
    record.budget = budget;
    record.shapley_spearman = shapley_spearman;
    record.seconds = std::chrono::duration<double>(Clock::now() - round_start).count() - reference_seconds;
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
