#include "fl/coordinator/coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "fl/common/model_file.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/model_host.hpp"
#include "fl/coordinator/round_metrics.hpp"
#include "fl/coordinator/update_validator.hpp"
#include "fl/coordinator/worker_registry.hpp"
#include "fl/ledger/ledger.hpp"

namespace fl::coordinator {

using common::SocketRole;
using Seconds = std::chrono::duration<double>;

namespace {

Result<common::KeyPair> load_or_create_key(const std::filesystem::path& path) {
  if (std::filesystem::exists(path)) return common::load_key_file(path);
  common::KeyPair key = common::generate_key_pair();
  FL_RETURN_IF_ERROR(common::save_key_file(path, key));
  spdlog::info("created key {} ({})", path.string(), common::short_id(key.public_key));
  return key;
}

common::Receipt to_wire(const ledger::RoundReceipt& r) {
  return common::Receipt{r.update_digest, r.reward, r.tx_hash, r.block_height, r.block_hash,
                         r.merkle_root, r.leaf_index, r.tree_size, r.proof};
}

}  // namespace

// Everything one round collects.
struct RoundInbox {
  std::uint64_t round = 0;
  std::set<common::PublicKey> sampled;
  std::map<common::PublicKey, ValidatedUpdate> accepted;
  std::vector<Rejection> rejected;
  std::set<common::PublicKey> answered;
  std::map<common::PublicKey, common::Digest> seen;  // first update digest per key (equivocation)
};

struct Coordinator::State {
  JobConfig config;
  common::KeyPair key;
  common::KeyPair researcher;
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::router};
  std::string endpoint;
  WorkerRegistry registry{false, {}};
  std::unique_ptr<ModelHost> model;
  std::unique_ptr<AggregationRule> rule;
  std::unique_ptr<ledger::Ledger> ledger;
  std::optional<MetricsWriter> metrics;
  std::vector<float> global;
  common::Digest global_digest{};
  std::uint64_t next_round = 1;
  RoundInbox* inbox = nullptr;  // non-null while a round is collecting
  std::ofstream evidence;

  Status open();
  Status resume();
  Status wait_for_workers();
  Status run_round(std::uint64_t round);
  void pump(std::chrono::milliseconds timeout);
  void handle_register(common::Envelope& env);
  void handle_update(common::Envelope&& env);
  void reply_error(const std::string& identity, const std::string& reason);
  void send_ack(const common::PublicKey& worker, common::UpdateAck ack);
  std::vector<common::PublicKey> sample(std::uint64_t round) const;
  Status checkpoint(std::uint64_t round);
  std::vector<ledger::RoundReceipt> record_on_ledger(std::uint64_t round, const RoundInbox& inbox,
                                                     const std::vector<common::PublicKey>& order,
                                                     const std::vector<double>& scores);
};

Result<std::unique_ptr<Coordinator>> Coordinator::create(JobConfig config) {
  auto state = std::make_unique<State>();
  state->config = std::move(config);
  FL_RETURN_IF_ERROR(state->open());
  return std::unique_ptr<Coordinator>(new Coordinator(std::move(state)));
}

Coordinator::Coordinator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Coordinator::~Coordinator() = default;
const std::string& Coordinator::endpoint() const { return state_->endpoint; }

Status Coordinator::State::open() {
  const auto& c = config;
  std::error_code ec;
  std::filesystem::create_directories(c.output_dir / "checkpoints", ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create " + c.output_dir.string() + ": " + ec.message());
  FL_ASSIGN_OR_RETURN(key, load_or_create_key(c.coordinator_key));
  FL_ASSIGN_OR_RETURN(researcher, load_or_create_key(c.researcher_key));
  registry = WorkerRegistry(c.open_enrolment, c.allowed_workers);
  FL_ASSIGN_OR_RETURN(rule, make_rule(c.rule, c.rule_options));
  FL_ASSIGN_OR_RETURN(model, ModelHost::create(c.model, c.seed, c.data_dir, c.eval_limit, c.device));
  global = model->initial_parameters();
  FL_RETURN_IF_ERROR(resume());
  global_digest = common::digest_of(global);
  if (c.ledger_enabled) {
    FL_ASSIGN_OR_RETURN(ledger, ledger::Ledger::open(c.output_dir / "ledger.db"));
    FL_RETURN_IF_ERROR(ledger->initialize(key));
  }
  FL_ASSIGN_OR_RETURN(auto writer, MetricsWriter::open(c.output_dir, c.live_table));
  metrics.emplace(std::move(writer));
  evidence.open(c.output_dir / "evidence.jsonl", std::ios::app);

  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::router_mandatory, 1);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(c.max_message_bytes));
  socket.set(zmq::sockopt::sndhwm, 0);
  FL_ASSIGN_OR_RETURN(endpoint, common::bind_socket(socket, c.bind));
  // Scripts and tests that bind port 0 read the endpoint actually bound from here.
  std::ofstream(c.output_dir / "endpoint") << endpoint << '\n';
  spdlog::info("job '{}': model {} ({} parameters), rule {}, {} rounds, listening on {}", c.job_id, c.model,
               global.size(), rule->name(), c.rounds, endpoint);
  return ok_status();
}

Status Coordinator::State::resume() {
  const auto state_path = config.output_dir / "state.json";
  if (!std::filesystem::exists(state_path)) return ok_status();
  nlohmann::json state;
  try {
    std::ifstream(state_path) >> state;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, state_path.string() + ": " + e.what());
  }
  if (state.value("job_id", "") != config.job_id) {
    return make_error(ErrorCode::kPrecondition, config.output_dir.string() + " holds job '" +
                                                    state.value("job_id", "") + "', not '" + config.job_id +
                                                    "'; choose another output.dir");
  }
  FL_ASSIGN_OR_RETURN(auto file, common::load_model_file(config.output_dir / "global.flm"));
  if (!(file.header.layout == model->layout())) {
    return make_error(ErrorCode::kCorrupt, "checkpoint layout does not match model " + config.model);
  }
  global = std::move(file.parameters);
  next_round = file.header.round + 1;
  spdlog::info("resuming job '{}' at round {} from {}", config.job_id, next_round,
               (config.output_dir / "global.flm").string());
  return ok_status();
}

Status Coordinator::run() {
  auto& s = *state_;
  if (s.next_round > static_cast<std::uint64_t>(s.config.rounds)) {
    spdlog::info("job '{}' already finished {} rounds", s.config.job_id, s.config.rounds);
  } else {
    FL_RETURN_IF_ERROR(s.wait_for_workers());
    s.metrics->print_header();
    for (std::uint64_t r = s.next_round; r <= static_cast<std::uint64_t>(s.config.rounds); ++r) {
      FL_RETURN_IF_ERROR(s.run_round(r));
      s.next_round = r + 1;
    }
  }
  for (const auto& [k, rec] : s.registry.all()) {
    (void)common::send_typed(s.socket, SocketRole::kRouter, rec.identity, common::MessageType::kShutdown,
                             common::Shutdown{s.config.job_id, "job finished"});
  }
  spdlog::info("job '{}' done; final model {}", s.config.job_id, (s.config.output_dir / "global.flm").string());
  return ok_status();
}

Status Coordinator::State::wait_for_workers() {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(Seconds(config.registration_wait_s));
  spdlog::info("waiting for {} workers to register", config.min_workers);
  while (registry.size() < static_cast<std::size_t>(config.min_workers)) {
    if (Clock::now() > until) {
      return make_error(ErrorCode::kTimeout, "only " + std::to_string(registry.size()) + " of " +
                                                 std::to_string(config.min_workers) + " workers registered within " +
                                                 std::to_string(config.registration_wait_s) + " s");
    }
    pump(std::chrono::milliseconds(100));
  }
  return ok_status();
}

std::vector<common::PublicKey> Coordinator::State::sample(std::uint64_t round) const {
  auto keys = registry.active_keys();
  const auto want = std::max<std::size_t>(
      static_cast<std::size_t>(config.min_workers),
      static_cast<std::size_t>(std::ceil(config.sample_fraction * static_cast<double>(keys.size()))));
  std::mt19937_64 rng(config.seed * 1'000'003 + round);
  std::shuffle(keys.begin(), keys.end(), rng);
  keys.resize(std::min(keys.size(), want));
  std::sort(keys.begin(), keys.end());
  return keys;
}

void Coordinator::State::reply_error(const std::string& identity, const std::string& reason) {
  (void)common::send_typed(socket, SocketRole::kRouter, identity, common::MessageType::kError,
                           common::ErrorMessage{reason});
}

void Coordinator::State::handle_register(common::Envelope& env) {
  auto req = common::decode<common::RegisterRequest>(env.header_bytes());
  common::RegisterAck ack;
  ack.job_id = config.job_id;
  ack.coordinator_key = key.public_key;
  if (!req.ok()) {
    ack.reason = req.error().message;
  } else if (auto s = registry.enrol(*req, env.identity, Clock::now()); !s.ok()) {
    ack.reason = s.error().message;
  } else {
    ack.accepted = true;
  }
  if (ack.accepted) {
    spdlog::info("worker {} registered ({} samples, {})", common::short_id(req->worker_key), req->num_samples,
                 req->device);
  } else {
    spdlog::warn("registration refused: {}", ack.reason);
  }
  (void)common::send_typed(socket, SocketRole::kRouter, env.identity, common::MessageType::kRegisterAck, ack);
}

void Coordinator::State::send_ack(const common::PublicKey& worker, common::UpdateAck ack) {
  const auto* rec = registry.find(worker);
  if (!rec) return;
  common::sign_update_ack(ack, key.secret_key);
  (void)common::send_typed(socket, SocketRole::kRouter, rec->identity, common::MessageType::kUpdateAck, ack);
}

void Coordinator::State::handle_update(common::Envelope&& env) {
  const std::string identity = env.identity;
  if (!inbox) {
    reply_error(identity, "no round is collecting updates now");
    return;
  }
  RoundExpectation expect{config.job_id, inbox->round, global_digest, &model->layout(), &inbox->sampled,
                          config.max_samples_per_update, config.max_update_norm};
  Rejection rejection;
  auto update = validate_update(std::move(env), expect, rejection);
  common::UpdateAck ack;
  ack.job_id = config.job_id;
  ack.round = inbox->round;
  ack.update_digest = rejection.digest;
  if (update.ok()) {
    const auto worker = update->header.worker_key;
    auto [seen, first] = inbox->seen.try_emplace(worker, update->digest);
    if (!first && seen->second == update->digest) return;  // a resend: already handled
    if (!first) {
      // Equivocation: two different signed updates for one job, round and key. Keep both as
      // evidence and use neither.
      rejection.reason = "equivocation: a second, different update for round " + std::to_string(inbox->round);
      evidence << nlohmann::json{{"job_id", config.job_id},
                                 {"round", inbox->round},
                                 {"worker", common::to_hex(worker)},
                                 {"first_update", common::to_hex(seen->second)},
                                 {"second_update", common::to_hex(update->digest)}}
                      .dump()
               << '\n';
      evidence.flush();
      if (auto it = inbox->accepted.find(worker); it != inbox->accepted.end()) {
        inbox->rejected.push_back({worker, it->second.digest, rejection.reason});
        inbox->accepted.erase(it);
      }
    } else {
      inbox->answered.insert(worker);
      ack.accepted = true;
      spdlog::debug("round {}: accepted update {} from {}", inbox->round, common::short_id(update->digest),
                    common::short_id(worker));
      inbox->accepted.emplace(worker, std::move(update).value());
      send_ack(worker, std::move(ack));
      return;
    }
  }
  if (!update.ok() && update.error().code == ErrorCode::kBadSignature) {
    // The header's key is only a claim: blame the key registered from the sending socket (or
    // no one), so a forger cannot put rejections on an honest worker's record.
    const auto* sender = registry.key_of(identity);
    rejection.worker = sender ? *sender : common::PublicKey{};
  }
  spdlog::warn("round {}: rejected update from {}: {}", inbox->round, common::short_id(rejection.worker),
               rejection.reason);
  if (inbox->sampled.count(rejection.worker)) inbox->answered.insert(rejection.worker);
  inbox->rejected.push_back(rejection);
  ack.reason = rejection.reason;
  common::sign_update_ack(ack, key.secret_key);
  (void)common::send_typed(socket, SocketRole::kRouter, identity, common::MessageType::kUpdateAck, ack);
}

void Coordinator::State::pump(std::chrono::milliseconds timeout) {
  std::string bad_identity;
  auto received = common::receive_message(socket, SocketRole::kRouter, timeout, &bad_identity);
  if (!received.ok()) {
    spdlog::warn("dropped a malformed message: {}", received.error().message);
    if (!bad_identity.empty()) reply_error(bad_identity, received.error().message);
    return;
  }
  if (!received->has_value()) return;
  common::Envelope env = std::move(**received);
  switch (env.type) {
    case common::MessageType::kRegister:
      handle_register(env);
      break;
    case common::MessageType::kHeartbeat:
      if (!registry.touch(env.identity, Clock::now())) reply_error(env.identity, "unknown worker: register first");
      break;
    case common::MessageType::kUpdate:
      registry.touch(env.identity, Clock::now());
      handle_update(std::move(env));
      break;
    default:
      reply_error(env.identity, "unexpected message type " + std::string(common::to_string(env.type)));
  }
}

std::vector<ledger::RoundReceipt> Coordinator::State::record_on_ledger(
    std::uint64_t round, const RoundInbox& box, const std::vector<common::PublicKey>& order,
    const std::vector<double>& scores) {
  if (!ledger) return {};
  ledger::JobRecord job{config.job_id, researcher.public_key, config.model, rule->name(), config.reward_per_round};
  std::vector<ledger::RegistrationRecord> registrations;
  std::vector<common::PublicKey> newly_recorded;
  for (const auto& [k, rec] : registry.all()) {
    if (rec.on_ledger) continue;
    const auto& r = rec.registration;
    registrations.push_back({r.worker_key, r.dataset_fingerprint, r.timestamp_ms, r.signature});
    newly_recorded.push_back(k);
  }
  ledger::RoundRecord record{config.job_id, round, global_digest, rule->name(), {}, {}};
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& u = box.accepted.at(order[i]);
    record.accepted.push_back({order[i], u.digest, scores[i], u.header.num_samples});
  }
  for (const auto& r : box.rejected) record.rejected.push_back({r.worker, r.digest, r.reason});
  auto receipts = ledger->record_round(key, researcher, job, registrations, record);
  if (!receipts.ok()) {
    spdlog::error("round {}: ledger refused the round: {}", round, receipts.error().to_string());
    return {};
  }
  for (const auto& k : newly_recorded) registry.find(k)->on_ledger = true;
  return std::move(receipts).value();
}

Status Coordinator::State::run_round(std::uint64_t round) {
  const auto start = Clock::now();
  registry.expire(start, std::chrono::duration_cast<Clock::duration>(Seconds(config.heartbeat_timeout_s)));
  if (registry.size() < static_cast<std::size_t>(config.min_workers)) FL_RETURN_IF_ERROR(wait_for_workers());

  RoundInbox box;
  box.round = round;
  const auto chosen = sample(round);
  common::RoundTask task;
  task.job_id = config.job_id;
  task.round = round;
  task.model = config.model;
  task.layout = model->layout();
  task.model_digest = global_digest;
  task.training = config.training;
  task.seed = config.seed * 7919 + round;
  task.deadline_ms = common::now_ms() + static_cast<std::uint64_t>(config.deadline_s * 1000);
  const std::string task_header = common::encode(task);
  for (const auto& k : chosen) {
    auto s = common::send_message(socket, SocketRole::kRouter, registry.find(k)->identity,
                                  common::MessageType::kRoundTask, task_header, common::as_bytes(global));
    if (s.ok()) box.sampled.insert(k);
    else spdlog::warn("round {}: worker {} unreachable: {}", round, common::short_id(k), s.error().message);
  }

  // Collect until all answered, or the quorum is in after the soft deadline, or the deadline.
  inbox = &box;
  const auto quorum = static_cast<std::size_t>(
      std::max(1.0, std::ceil(config.quorum_fraction * static_cast<double>(box.sampled.size()))));
  const auto soft = start + std::chrono::duration_cast<Clock::duration>(Seconds(config.soft_deadline_s));
  const auto hard = start + std::chrono::duration_cast<Clock::duration>(Seconds(config.deadline_s));
  std::string close_reason;
  while (true) {
    const auto now = Clock::now();
    if (box.answered.size() >= box.sampled.size()) { close_reason = "all answered"; break; }
    if (now >= soft && box.accepted.size() >= quorum) { close_reason = "quorum after soft deadline"; break; }
    if (now >= hard) { close_reason = "deadline"; break; }
    pump(std::chrono::milliseconds(50));
  }
  inbox = nullptr;

  // Aggregate in worker-key order: the same inputs give bit-identical results in any arrival order.
  RoundMetrics m;
  m.round = round;
  m.sampled = static_cast<int>(box.sampled.size());
  m.answered = static_cast<int>(box.answered.size());
  m.accepted = static_cast<int>(box.accepted.size());
  m.rejected = static_cast<int>(box.rejected.size());
  m.rule = rule->name();
  m.close_reason = close_reason;
  std::vector<common::PublicKey> order;
  std::vector<UpdateView> views;
  std::vector<std::span<const float>> spans;
  double loss_sum = 0, sample_sum = 0;
  for (const auto& [k, u] : box.accepted) {
    order.push_back(k);
    views.push_back({u.values, static_cast<double>(u.header.num_samples)});
    spans.push_back(u.values);
    loss_sum += u.header.train_loss * static_cast<double>(u.header.num_samples);
    sample_sum += static_cast<double>(u.header.num_samples);
    m.slowest_train_seconds = std::max(m.slowest_train_seconds, u.header.train_seconds);
  }
  m.train_loss = sample_sum > 0 ? loss_sum / sample_sum : 0;

  std::vector<double> scores(order.size(), 0.0);
  const auto agg_start = Clock::now();
  if (views.empty()) {
    spdlog::warn("round {}: no accepted updates; the global model stays", round);
    m.close_reason += ", no updates";
  } else if (auto agg = rule->aggregate(views); !agg.ok()) {
    spdlog::error("round {}: {} refused: {}", round, rule->name(), agg.error().message);
    m.close_reason += ", rule refused";
  } else {
    const float lr = static_cast<float>(config.server_learning_rate);
    for (std::size_t i = 0; i < global.size(); ++i) global[i] += lr * (*agg)[i];
    scores = contribution_scores(spans, *agg);
  }
  m.aggregate_seconds = Seconds(Clock::now() - agg_start).count();
  global_digest = common::digest_of(global);

  FL_ASSIGN_OR_RETURN(auto eval, model->evaluate(global));
  m.test_loss = eval.loss;
  m.test_accuracy = eval.accuracy;
  m.eval_seconds = eval.seconds;
  FL_RETURN_IF_ERROR(checkpoint(round));

  auto receipts = record_on_ledger(round, box, order, scores);
  m.ledger_height = ledger ? ledger->height() : 0;
  for (const auto& r : receipts) {
    common::UpdateAck ack;
    ack.job_id = config.job_id;
    ack.round = round;
    ack.update_digest = r.update_digest;
    ack.accepted = true;
    ack.reason = "recorded";
    ack.receipt = to_wire(r);
    send_ack(r.worker, std::move(ack));
  }
  m.round_seconds = Seconds(Clock::now() - start).count();
  metrics->write(m);
  return ok_status();
}

Status Coordinator::State::checkpoint(std::uint64_t round) {
  common::ModelFileHeader header{config.job_id, round, config.model, model->layout(), global_digest};
  char name[32];
  std::snprintf(name, sizeof name, "round-%06llu.flm", static_cast<unsigned long long>(round));
  FL_RETURN_IF_ERROR(common::save_model_file(config.output_dir / "checkpoints" / name, header, global));
  FL_RETURN_IF_ERROR(common::save_model_file(config.output_dir / "global.flm", header, global));
  const auto tmp = config.output_dir / "state.json.tmp";
  std::ofstream(tmp) << nlohmann::json{{"job_id", config.job_id}, {"round", round},
                                       {"model_digest", common::to_hex(global_digest)}}
                            .dump(2);
  std::error_code ec;
  std::filesystem::rename(tmp, config.output_dir / "state.json", ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot write state.json: " + ec.message());
  return ok_status();
}

}  // namespace fl::coordinator
