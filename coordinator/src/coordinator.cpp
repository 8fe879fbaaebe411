#include "fl/coordinator/coordinator.hpp"
#include "fl/coordinator/model_shipping.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <future>
#include <thread>
#include <nlohmann/json.hpp>

#include "fl/common/model_file.hpp"
#include "fl/coordinator/etcd_ledger.hpp"
#include "fl/coordinator/owner_redirect.hpp"
#include "fl/coordinator/fault_injection.hpp"
#include "fl/coordinator/http/job_monitor.hpp"
#include "fl/coordinator/http/job_server.hpp"
#include "fl/coordinator/job_terms.hpp"
#include "fl/coordinator/model_host.hpp"
#include "fl/coordinator/privacy/client_dp.hpp"
#include "fl/coordinator/round.hpp"
#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/round_metrics.hpp"
#include "fl/coordinator/run_folder.hpp"
#include "fl/coordinator/run_plots.hpp"
#include "fl/coordinator/worker_registry.hpp"
#include "fl/ledger/economy.hpp"
#include "fl/ledger/json.hpp"
#include "fl/ledger/ledger.hpp"
#include "coordinator_state.hpp"
#include "round_validation.hpp"

namespace fl::coordinator {

Result<common::KeyPair> load_or_create_key(const std::filesystem::path& path) {
  if (std::filesystem::exists(path)) return common::load_key_file(path);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  common::KeyPair key = common::generate_key_pair();
  FL_RETURN_IF_ERROR(common::save_key_file(path, key));
  spdlog::info("created key {} ({})", path.string(), common::short_id(key.public_key));
  return key;
}

ChannelOptions channel_options(const JobConfig& c, const common::KeyPair& key) {
  ChannelOptions o;
  o.endpoint = c.bind;
  o.max_message_bytes = c.max_message_bytes;
  o.plaintext = c.plaintext;
  o.server_key = &key;
  o.open_enrolment = c.open_enrolment;
  o.allowed_workers = c.allowed_workers;
  o.max_connections = c.max_connections;
  o.max_connections_per_address = c.max_connections_per_address;
  o.register_timeout_s = c.register_timeout_s;
  return o;
}

EngineSettings engine_settings(const JobConfig& c, const common::TensorLayout& layout) {
  EngineSettings s;
  s.job_id = c.job_id;
  s.model = c.model;
  s.layout = layout;
  s.task_template.training = c.training;
  s.task_template.privacy = task_privacy(c.close.privacy);
  if (c.close.privacy.mode == DpPlacement::kDistributed) {
    s.min_quorum = static_cast<std::size_t>(c.close.privacy.min_workers);
  }
  s.seed = c.seed;
  s.sampling = {c.sample_fraction, c.min_workers};
  s.sampling_requirement = c.sampling_requirement;
  s.peer_messages = c.peer_messages;
  s.quorum_fraction = c.quorum_fraction;
  s.soft_deadline_s = c.soft_deadline_s;
  s.deadline_s = c.deadline_s;
  s.registration_wait_s = c.registration_wait_s;
  s.heartbeat_timeout_s = c.heartbeat_timeout_s;
  s.max_samples_per_update = c.max_samples_per_update;
  s.max_update_norm = c.max_update_norm;
  return s;
}

namespace {

// Runs `work` (closing a round: aggregation, scoring, evaluation) on another thread while this
// one keeps serving the workers: heartbeats, registrations and model files are answered, so a
// long close (the scorer's validation passes and reference training) never makes a live
// worker look silent.
template <typename F>
auto serve_while(RoundEngine& engine, F&& work) {
  auto pending = std::async(std::launch::async, std::forward<F>(work));
  while (pending.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    engine.pump(std::chrono::milliseconds(20));
  }
  return pending.get();
}

}  // namespace


Result<std::unique_ptr<Coordinator>> Coordinator::create(JobConfig config, const std::atomic<bool>* stop) {
  auto state = std::make_unique<State>();
  state->config = std::move(config);
  if (stop) state->stop = stop;
  FL_RETURN_IF_ERROR(state->open());
  return std::unique_ptr<Coordinator>(new Coordinator(std::move(state)));
}

Coordinator::Coordinator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Coordinator::~Coordinator() {
  state_->replicated.watchdog.reset();  // its thread may call the monitor, which goes first
}
const std::string& Coordinator::endpoint() const { return state_->endpoint; }

Status Coordinator::State::open() {
  const auto& c = config;
  std::error_code ec;
  std::filesystem::create_directories(c.output_dir / "checkpoints", ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create " + c.output_dir.string() + ": " + ec.message());
  FL_ASSIGN_OR_RETURN(auto held, RunFolderLock::acquire(c.output_dir));
  lock.emplace(std::move(held));
  FL_ASSIGN_OR_RETURN(key, load_or_create_key(c.coordinator_key));
  FL_ASSIGN_OR_RETURN(researcher, load_or_create_key(c.researcher_key));
  registry = WorkerRegistry(c.open_enrolment, c.allowed_workers, c.enrolment_limits);
  FL_ASSIGN_OR_RETURN(rule, make_rule(c.rule, c.rule_options));
  FL_ASSIGN_OR_RETURN(scorer, make_scorer(c.scoring.scorer));
  screening_history = ScreeningHistory(c.scoring.screening.history_rounds);
  const ValidationOptions validation{validation_samples_for(c.scoring, *scorer), c.training};
  FL_ASSIGN_OR_RETURN(model, ModelHost::create(c.model, c.seed, c.data, c.eval_limit, c.device, validation));
  if (model->validation() != nullptr) {
    spdlog::info("scoring: {} against a validation set of {} examples held apart from the test set",
                 scorer->name(), model->validation()->size());
  }
  if (!c.scoring.screening.enabled) {
    spdlog::warn("RESEARCH MODE: [scoring] screen_free_riders = false; zero, noise, replayed and "
                 "copied updates are paid like real ones");
  }
  FL_ASSIGN_OR_RETURN(terms, make_job_terms(c, model->layout(), common::digest_of(model->initial_parameters()),
                                            key.public_key, researcher.public_key));
  FL_RETURN_IF_ERROR(open_ledger_and_resume());
  FL_RETURN_IF_ERROR(check_terms_unchanged());
  FL_ASSIGN_OR_RETURN(auto writer, MetricsWriter::open(c.output_dir, c.live_table));
  metrics.emplace(std::move(writer));
  observers.push_back(&*metrics);
  evidence.open(c.output_dir / "evidence.jsonl", std::ios::app);
  if (!c.http_listen.empty()) FL_RETURN_IF_ERROR(start_http());

  FL_ASSIGN_OR_RETURN(auto bound, bind_zmq_channel(channel_options(c, key)));
  channel = std::move(bound.channel);
  endpoint = std::move(bound.endpoint);
  // Scripts and tests that bind port 0 read the endpoint actually bound from here.
  std::ofstream(c.output_dir / "endpoint") << endpoint << '\n';
  auto settings = engine_settings(c, model->layout());
  FL_RETURN_IF_ERROR(attach_model_file(settings));
  settings.require_authenticated_key = !c.plaintext;
  settings.terms = common::terms_text(terms);
  const auto digest = common::terms_digest(terms);
  settings.terms_signature = common::sign(researcher.secret_key, digest);
  std::ofstream(c.output_dir / "terms.json") << settings.terms << '\n';
  spdlog::info("terms {} offered to every worker before it registers ({})",
               common::to_hex(digest).substr(0, 16), (c.output_dir / "terms.json").string());
  settings.on_equivocation = [this](std::uint64_t round, const Equivocation& e) { write_evidence(round, e); };
  settings.stake_of = [this](const common::PublicKey& k) -> std::uint64_t {
    const auto* account = ledger ? ledger->state().find(k) : nullptr;
    return account ? account->stake : 0;
  };
  if (c.open_enrolment && c.sampling_requirement.min_stake == 0 && c.sampling_requirement.approval_file.empty()) {
    spdlog::warn("open enrolment with no sampling requirement: any registered key may be sampled (set "
                 "enrolment.min_stake or enrolment.approval_file to resist sybils)");
  }
  engine = std::make_unique<RoundEngine>(std::move(settings), *channel, registry, key, *stop);
  refresh_checkpoint();
  if (c.close.privacy.enabled()) spdlog::info("privacy: {}", describe(c.close.privacy));
  if (c.rule == "fedavg" && !c.close.privacy.enabled()) {
    spdlog::warn("rule fedavg is not Byzantine-robust: one worker's update can move the model anywhere "
                 "(the norm bound limits how far; the default rule is median)");
  }
  if (is_research_mode(c.close.bounds)) {
    spdlog::warn("RESEARCH MODE: {} ([aggregation] sample_weights / norm_bound_multiple)", describe(c.close.bounds));
  } else {
    spdlog::info("updates: {}", describe(c.close.bounds));
  }
  spdlog::info("job '{}': model {} ({} parameters), rule {}, {} rounds, listening on {}, coordinator key {}",
               c.job_id, c.model, global.size(), rule->name(), c.rounds, endpoint, common::to_hex(key.public_key));
  return ok_status();
}

Status Coordinator::State::start_http() {
  const auto& c = config;
  JobInfo info{c.job_id, c.model, rule->name(), scorer->name(), c.rounds, c.min_workers, c.reward_per_round,
               c.ledger_enabled};
  monitor = std::make_unique<JobMonitor>(std::move(info), registry, c.heartbeat_timeout_s);
  observers.push_back(monitor.get());
  alarm_monitor = monitor.get();
  FL_ASSIGN_OR_RETURN(http, JobHttpServer::start(c, *monitor));
  std::ofstream(c.output_dir / "http") << http->url() << '\n';  // for scripts and tests (port 0)
  spdlog::info("dashboard on {} (metrics at {}metrics)", http->url(), http->url());
  return ok_status();
}

Status Coordinator::State::open_ledger_and_resume() {
  const auto db = config.output_dir / "ledger.db";
  LedgerView view;
  view.enabled = config.ledger_enabled;
  view.db_existed = std::filesystem::exists(db);
  if (!config.ledger_enabled) {
    spdlog::warn("RESEARCH MODE: ledger.enabled = false; rounds are not recorded and nothing is paid");
  } else if (!config.ledger_etcd.empty() || view.db_existed) {
    if (config.ledger_etcd.empty()) {
      FL_ASSIGN_OR_RETURN(ledger, ledger::Ledger::open(db));
    } else {
      auto to_monitor = [this](const ledger::ChainRewrite& rw) {
        if (auto* m = alarm_monitor.load()) m->on_ledger_alarm(rw.height);
      };
      // While another member owns the job, workers that reach this one's endpoint are told
      // who does (a port picked at random, :0, is one no worker knows: nothing to answer there).
      std::unique_ptr<OwnerRedirect> redirect;
      const auto waiting = [&, tried = false](const std::string& holder) mutable {
        if (!tried && !config.bind.ends_with(":0")) {
          tried = true;
          auto started = OwnerRedirect::start(config.bind, key, config.job_id, config.plaintext);
          if (started.ok()) {
            redirect = std::move(started).value();
            spdlog::info("standing by: workers reaching {} are sent to the job's owner {}", redirect->endpoint(),
                         holder.substr(0, 8));
          } else {
            spdlog::warn("cannot answer workers while standing by: {}", started.error().message);
          }
        }
        if (redirect) redirect->set_owner(holder);
      };
      auto opened = open_etcd_ledger(config, common::to_hex(key.public_key), stop, to_monitor, waiting);
      if (redirect && redirect->redirected() > 0) {
        spdlog::info("sent {} registrations to the job's owner while standing by", redirect->redirected());
      }
      redirect.reset();  // the endpoint is this member's to bind now
      if (!opened.ok()) return opened.error();
      replicated = std::move(opened).value();
      ledger = std::move(replicated.ledger);
      view.db_existed = true;  // the chain in etcd is the record of the rounds
    }
    if (auto last = ledger->last_round(config.job_id)) {
      view.last_round = last->round;
      view.model_digest = last->model_digest;
    }
  }
  if (replicated.models && view.last_round > 0) {
    FL_RETURN_IF_ERROR(fetch_model_from_etcd(view.last_round, view.model_digest));
  }
  const common::ModelFileHeader expected{config.job_id, 0, config.model, model->layout(), {}};
  FL_ASSIGN_OR_RETURN(auto point, resume_point(config.output_dir, expected, model->initial_parameters(), view));
  if (!point.note.empty()) spdlog::info("{}", point.note);
  global = std::move(point.global);
  global_digest = common::digest_of(global);
  next_round = point.next_round;
  FL_RETURN_IF_ERROR(open_update_store());
  if (config.ledger_enabled && !ledger) {
    FL_ASSIGN_OR_RETURN(ledger, ledger::Ledger::open(db));
  }
  if (ledger) {
    FL_RETURN_IF_ERROR(ledger->initialize(key, config.ledger_consortium));
    const auto& consortium = ledger->state().consortium();
    if (config.bounty == 0 && config.reward_per_round > 0 && !consortium.is_minter(key.public_key)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the coordinator key " + common::short_id(key.public_key) +
                            " is a member but not a minter of the ledger's consortium, so it cannot mint the rounds' "
                            "rewards: pay them out of a bounty ([ledger] bounty) or set [ledger] reward_per_round = 0");
    }
    if (consortium.members.size() > 1) {
      spdlog::info("ledger consortium {}; this coordinator is {}a minter", ledger::describe_consortium(consortium),
                   consortium.is_minter(key.public_key) ? "" : "not ");
    }
    FL_RETURN_IF_ERROR(ledger::check_bounty(ledger->state(), config.job_id, researcher.public_key, config.bounty));
    if (config.bounty > 0) {
      spdlog::info("rewards: paid out of a bounty of {} escrowed by researcher {}", config.bounty,
                   common::short_id(researcher.public_key));
    }
  }
  FL_RETURN_IF_ERROR(start_store_server());
  return resume_privacy_budget();
}

Status Coordinator::run() {
  auto& s = *state_;
  const RunPlotsOnExit plots(s.config.output_dir, s.config.job_id);  // accuracy.svg, rewards.svg
  const auto last = static_cast<std::uint64_t>(s.config.rounds);
  if (s.next_round > last) {
    spdlog::info("job '{}' already finished {} rounds", s.config.job_id, s.config.rounds);
  } else {
    if (auto w = s.engine->wait_for_workers(); !w.ok()) {
      if (*s.stop) return with_context(w.error(), "stopped before round " + std::to_string(s.next_round));
      return w;
    }
    for (auto* o : s.observers) o->on_job_start();
    for (std::uint64_t r = s.next_round; r <= last && s.budget_stop.empty(); ++r) {
      if (auto status = s.run_round(r); !status.ok()) {
        if (*s.stop) {
          spdlog::warn("stopped during round {}; rounds 1-{} are recorded and in {}; resume with the same "
                       "command (fl-coordinator run --config ...)",
                       r, r - 1, global_model_path(s.config.output_dir).string());
        }
        return status;
      }
      s.next_round = r + 1;
    }
  }
  s.refund_bounty();
  if (!s.budget_stop.empty()) {
    s.engine->shutdown_all("job stopped: " + s.budget_stop);
    spdlog::warn("job '{}' stopped: {}; final model {}", s.config.job_id, s.budget_stop,
                 global_model_path(s.config.output_dir).string());
  } else {
    s.engine->shutdown_all("job finished");
    spdlog::info("job '{}' done; final model {}", s.config.job_id,
                 global_model_path(s.config.output_dir).string());
  }
  if (s.http && s.config.http_linger_s > 0) {
    spdlog::info("the dashboard stays on {} for {} s ([http] linger_s)", s.http->url(), s.config.http_linger_s);
    const auto until = Clock::now() + std::chrono::duration<double>(s.config.http_linger_s);
    while (!*s.stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ok_status();
}
Status Coordinator::State::save_model(const std::filesystem::path& path, std::uint64_t round,
                                      std::span<const float> params, const common::Digest& digest) const {
  const common::ModelFileHeader header{config.job_id, round, config.model, model->layout(), digest};
  return common::save_model_file(path, header, params);
}

Status Coordinator::State::run_round(std::uint64_t round) {
  const auto start = Clock::now();
  FL_ASSIGN_OR_RETURN(auto collected, engine->collect(round, global, global_digest));
  const auto collected_at = Clock::now();
  fault_point("collected", round);
  std::optional<RoundSpend> spend;  // client-level DP: what this round spends of the budget
  if (config.close.privacy.enabled()) {
    FL_ASSIGN_OR_RETURN(spend, next_round_spend(privacy_spent, config.close.privacy, round,
                                                collected.sampled, collected.population));
    if (!spend->within_budget) {
      stop_for_budget(round, collected, spend->reason);
      return ok_status();
    }
  }
  std::vector<std::string> fingerprints;
  for (const auto& u : collected.accepted) {
    const auto* rec = registry.find(u.header.worker_key);
    fingerprints.push_back(rec ? rec->registration.dataset_fingerprint : "");
  }
  ScoringContext scoring{*scorer, model->validation(), &screening_history, config.scoring.screening,
                         fingerprints};
  FL_ASSIGN_OR_RETURN(auto closed, serve_while(*engine, [&] {
                        return close_round(global, collected, *rule, scoring, *model, config.close);
                      }));
  if (tamper_with_aggregate(round) && !closed.global.empty()) {
    closed.global[0] += 0.01f;
    closed.model_digest = common::digest_of(closed.global);
  }
  for (std::size_t i = 0; i < closed.score_reasons.size(); ++i) {
    if (closed.score_reasons[i].empty()) continue;
    spdlog::warn("round {}: worker {} earns nothing: {}", round,
                 common::short_id(collected.accepted[i].header.worker_key), closed.score_reasons[i]);
  }
  if (!closed.outcome.empty()) spdlog::warn("round {}: {}; the global model stays", round, closed.outcome);

  // The order below is what makes a kill at any point recoverable (see run_folder.hpp).
  FL_RETURN_IF_ERROR(save_model(checkpoint_path(config.output_dir, round), round, closed.global, closed.model_digest));
  FL_RETURN_IF_ERROR(store_round(collected, closed));
  fault_point("checkpoint", round);
  const auto ledger_start = Clock::now();
  FL_ASSIGN_OR_RETURN(auto receipts, record_on_ledger(round, collected, closed, spend));
  refresh_store_readers();
  refresh_checkpoint();
  if (replicated.models) {
    if (auto s = replicated.models->put(config.job_id, closed.model_digest, closed.global); !s.ok()) {
      spdlog::error("round {}: the model is not in etcd ({}); no other member can take the job over from this round",
                    round, s.error().message);
    }
  }
  slash_equivocators();
  if (spend) {
    FL_RETURN_IF_ERROR(privacy_spent.add_round(spend->sample_rate, config.close.privacy.noise_multiplier));
  }
  const auto ledger_seconds = std::chrono::duration<double>(Clock::now() - ledger_start).count();
  fault_point("ledger", round);
  FL_RETURN_IF_ERROR(save_model(global_model_path(config.output_dir), round, closed.global, closed.model_digest));
  global = std::move(closed.global);
  global_digest = closed.model_digest;
  fault_point("global", round);

  RoundMetrics m;
  m.round = round;
  m.sampled = static_cast<int>(collected.sampled);
  m.answered = static_cast<int>(collected.answered);
  m.accepted = static_cast<int>(collected.accepted.size());
  m.rejected = static_cast<int>(collected.rejected.size());
  m.rule = rule->name();
  m.scorer = closed.scorer;
  m.task_errors = static_cast<int>(collected.task_failures.size());
  const auto& junk = collected.unrecorded;
  m.undecodable = junk.undecodable;
  m.unregistered = junk.unregistered;
  m.bad_signature = junk.bad_signature;
  m.unsampled = junk.unsampled;
  m.over_rejection_cap = junk.over_cap;
  m.rate_limited = junk.rate_limited;
  m.registrations_refused = junk.registrations_refused;
  m.never_answered = short_id_list(collected.never_answered);
  m.close_reason = collected.close_reason + (closed.outcome.empty() ? "" : ", " + closed.outcome);
  m.train_loss = closed.train_loss;
  m.slowest_train_seconds = closed.slowest_train_seconds;
  m.aggregate_seconds = closed.aggregate_seconds;
  m.clipped = closed.clipped;
  m.free_riders = closed.free_riders;
  m.copies = closed.copies;
  m.scoring_seconds = closed.scoring_seconds;
  m.test_loss = closed.eval.loss;
  m.test_accuracy = closed.eval.accuracy;
  m.eval_seconds = closed.eval.seconds;
  m.ledger_height = ledger ? ledger->height() : 0;
  m.collect_seconds = std::chrono::duration<double>(collected_at - start).count();
  m.ledger_seconds = ledger_seconds;
  for (const auto& u : collected.accepted) m.update_bytes += u.values.size_bytes();
  for (const auto& r : receipts) m.minted += r.reward;
  m.round_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto* o : observers) o->on_round(m);
  spdlog::default_logger()->flush();  // the log survives a crash up to the last round
  fault_point("metrics", round);

  for (const auto& r : receipts) {
    common::UpdateAck ack;
    ack.job_id = config.job_id;
    ack.round = round;
    ack.update_digest = r.update_digest;
    ack.accepted = true;
    ack.reason = "recorded";
    ack.receipt = static_cast<const common::Receipt&>(r);
    engine->send_ack(r.worker, std::move(ack));
  }
  fault_point("receipts", round);
  return ok_status();
}

}  // namespace fl::coordinator
