#include "fl/coordinator/round_engine.hpp"

#include "fl/common/job_terms.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "fl/common/zmq_channel.hpp"  // now_ms

namespace fl::coordinator {

using common::MessageType;
using Seconds = std::chrono::duration<double>;

namespace {

Clock::duration seconds(double s) { return std::chrono::duration_cast<Clock::duration>(Seconds(s)); }

std::string short_ids(const std::vector<common::PublicKey>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : " ") + common::short_id(k);
  return out;
}

}  // namespace

RoundEngine::RoundEngine(EngineSettings settings, WorkerChannel& channel, WorkerRegistry& registry,
                         const common::KeyPair& coordinator_key, const std::atomic<bool>& stop)
    : settings_(std::move(settings)),
      channel_(channel),
      registry_(registry),
      key_(coordinator_key),
      stop_(stop),
      gate_(settings_.sampling_requirement, settings_.stake_of),
      peer_limiter_(settings_.peer_messages, settings_.max_peers_tracked),
      own_soft_deadline_s_(settings_.soft_deadline_s),
      own_deadline_s_(settings_.deadline_s) {}

void RoundEngine::follow(const common::RoundTask& parent_task, double margin_s) {
  settings_.model = parent_task.model;
  settings_.layout = parent_task.layout;
  settings_.task_template.training = parent_task.training;
  settings_.task_template.privacy = parent_task.privacy;
  settings_.task_template.model_file_digest = parent_task.model_file_digest;
  settings_.task_template.checkpoint = parent_task.checkpoint;
  settings_.task_template.chain_headers = parent_task.chain_headers;
  parent_seed_ = parent_task.seed;
  const double left_s =
      (static_cast<double>(parent_task.deadline_ms) - static_cast<double>(common::now_ms())) / 1000.0 - margin_s;
  settings_.deadline_s = std::clamp(left_s, 1.0, own_deadline_s_);
  settings_.soft_deadline_s = std::min(own_soft_deadline_s_, settings_.deadline_s);
}

template <typename... Args>
void RoundEngine::warn_untrusted(spdlog::format_string_t<Args...> format, Args&&... args) {
  std::uint64_t suppressed = 0;
  if (!untrusted_log_.allow(LimitClock::now(), suppressed)) return;
  if (suppressed > 0) spdlog::warn("({} similar warnings about untrusted input were not logged)", suppressed);
  spdlog::warn(format, std::forward<Args>(args)...);
}

bool RoundEngine::admit(const PeerId& peer) {
  if (peer_limiter_.allow(peer, LimitClock::now())) return true;
  ++engine_counts_.rate_limited;
  warn_untrusted("dropped a message from a peer over its rate limit (limits.peer_messages_per_s)");
  return false;
}

Status RoundEngine::wait_for_workers() {
  const auto want = static_cast<std::size_t>(std::max(settings_.sampling.min_workers, 1));
  const auto until = Clock::now() + seconds(settings_.registration_wait_s);
  if (registry_.size() < want) spdlog::info("waiting for {} workers to register ({} so far)", want, registry_.size());
  while (registry_.size() < want) {
    if (stop_) return make_error(ErrorCode::kUnavailable, "stopped while waiting for workers");
    if (Clock::now() > until) {
      const std::string why = "only " + std::to_string(registry_.size()) + " of " + std::to_string(want) +
                              " workers registered within " + std::to_string(settings_.registration_wait_s) +
                              " s (round.registration_wait_s)";
      shutdown_all("the coordinator gave up: " + why);
      return make_error(ErrorCode::kTimeout, why);
    }
    pump(std::chrono::milliseconds(100));
  }
  return ok_status();
}

void RoundEngine::expire_silent_workers() {
  if (settings_.heartbeat_timeout_s <= 0) return;
  const auto dropped = registry_.expire(Clock::now(), seconds(settings_.heartbeat_timeout_s));
  if (!dropped.empty()) {
    spdlog::warn("dropped {} worker(s) silent for over {} s: {}", dropped.size(), settings_.heartbeat_timeout_s,
                 short_ids(dropped));
  }
}

Result<CollectedRound> RoundEngine::collect(std::uint64_t round, std::span<const float> global,
                                            const common::Digest& global_digest) {
  expire_silent_workers();
  FL_RETURN_IF_ERROR(wait_for_workers());
  const auto start = RoundClock::now();
  RoundPlan plan;
  plan.job_id = settings_.job_id;
  plan.round = round;
  plan.base_model_digest = global_digest;
  plan.layout = settings_.layout;
  plan.max_samples = settings_.max_samples_per_update;
  plan.max_norm = settings_.max_update_norm;
  plan.soft_deadline = start + seconds(settings_.soft_deadline_s);
  plan.hard_deadline = start + seconds(settings_.deadline_s);

  common::RoundTask task = settings_.task_template;
  task.job_id = settings_.job_id;
  task.round = round;
  task.model = settings_.model;
  task.layout = settings_.layout;
  task.model_digest = global_digest;
  task.seed = parent_seed_.value_or(settings_.seed * 7919 + round);
  task.deadline_ms = common::now_ms() + static_cast<std::uint64_t>(settings_.deadline_s * 1000);
  common::sign_round_task(task, key_.secret_key);
  const std::string task_header = common::encode(task);
  const auto eligible = gate_.eligible(registry_.active_keys());
  if (eligible.size() < registry_.size()) {
    spdlog::info("round {}: {} of {} registered workers meet enrolment.min_stake / approval_file", round,
                 eligible.size(), registry_.size());
  }
  std::set<common::PublicKey> newcomers;
  const auto chosen = sample_preferring_history(
      eligible, [this](const common::PublicKey& k) { return registry_.has_answered(k); }, settings_.sampling,
      settings_.sampling_requirement.newcomer_share, settings_.seed, round, newcomers);
  for (const auto& k : chosen) {
    if (auto s = send_task(k, task_header, global); s.ok()) {
      plan.sampled.insert(k);
      if (newcomers.count(k)) plan.newcomers.insert(k);
    } else {
      spdlog::warn("round {}: worker {} unreachable: {}", round, common::short_id(k), s.error().message);
    }
  }
  plan.quorum = std::max(quorum_for(settings_.quorum_fraction, plan.sampled.size()), settings_.min_quorum);
  open_.emplace(OpenRound{RoundCollector(std::move(plan)), task_header, global});
  auto& collector = open_->collector;

  std::optional<std::string> reason;
  while (!(reason = collector.close_reason(RoundClock::now()))) {
    if (stop_) {
      open_.reset();
      return make_error(ErrorCode::kUnavailable, "stopped while round " + std::to_string(round) + " was collecting");
    }
    pump(std::chrono::milliseconds(20));
  }
  last_round_ = round;
  last_newcomers_ = open_->collector.plan().newcomers;
  auto collected = std::move(open_->collector).finish(*reason);
  collected.population = eligible.size();
  open_.reset();
  for (const auto& u : collected.accepted) registry_.note_answered(u.header.worker_key);
  for (const auto& r : collected.rejected) registry_.note_answered(r.worker);
  for (const auto& f : collected.task_failures) registry_.note_answered(f.worker);
  collected.unrecorded.rate_limited += engine_counts_.rate_limited;
  collected.unrecorded.undecodable += engine_counts_.undecodable;
  collected.unrecorded.registrations_refused += engine_counts_.registrations_refused;
  engine_counts_ = {};
  if (const auto junk = collected.unrecorded.total(); junk > 0) {
    const auto& u = collected.unrecorded;
    spdlog::warn("round {}: {} message(s) refused without a ledger entry: {} undecodable, {} unregistered, {} bad "
                 "signature, {} unsampled, {} over the per-worker cap, {} rate-limited, {} registrations refused",
                 round, junk, u.undecodable, u.unregistered, u.bad_signature, u.unsampled, u.over_cap, u.rate_limited,
                 u.registrations_refused);
  }
  if (!collected.never_answered.empty()) {
    spdlog::warn("round {}: {} sampled worker(s) never answered: {}", round, collected.never_answered.size(),
                 short_ids(collected.never_answered));
  }
  return collected;
}

Status RoundEngine::send_task(const common::PublicKey& worker, const std::string& task_header,
                              std::span<const float> global) {
  const auto* rec = registry_.find(worker);
  if (!rec) return make_error(ErrorCode::kUnavailable, "not registered");
  return channel_.send(rec->identity, MessageType::kRoundTask, task_header, common::as_bytes(global));
}

void RoundEngine::pump(std::chrono::milliseconds timeout) {
  if (settings_.on_idle) settings_.on_idle();
  auto received = channel_.receive(timeout);
  if (received.malformed_from || !received.error.empty()) {
    if (received.malformed_from && !admit(*received.malformed_from)) return;
    ++engine_counts_.undecodable;
    warn_untrusted("dropped a malformed message: {}", received.error);
    if (received.malformed_from) reply_error(*received.malformed_from, received.error);
    return;
  }
  if (received.message && admit(received.message->peer)) handle(*received.message);
}

void RoundEngine::handle(InboundMessage& message) {
  switch (message.type) {
    case MessageType::kRegister:
      handle_register(message);
      break;
    case MessageType::kHeartbeat:
      if (!registry_.touch(message.peer, Clock::now())) reply_error(message.peer, "unknown worker: register first");
      break;
    case MessageType::kUpdate:
      registry_.touch(message.peer, Clock::now());
      handle_update(message);
      break;
    case MessageType::kTaskError:
      registry_.touch(message.peer, Clock::now());
      handle_task_error(message);
      break;
    case MessageType::kModelFileRequest:
      registry_.touch(message.peer, Clock::now());
      handle_model_file_request(message);
      break;
    default:
      reply_error(message.peer, "unexpected message type " + std::string(common::to_string(message.type)));
  }
}

void RoundEngine::reply_error(const PeerId& peer, const std::string& reason) {
  (void)send_typed(channel_, peer, MessageType::kError, common::ErrorMessage{reason});
}

void RoundEngine::answer_registration(const PeerId& peer, common::RegisterAck ack) {
  common::sign_register_ack(ack, key_.secret_key);
  (void)send_typed(channel_, peer, MessageType::kRegisterAck, ack);
}

// First contact (no challenge): answer with this connection's challenge. Then the signed answer
// must be bound to this job, this coordinator, this connection and its authenticated key.
void RoundEngine::handle_register(const InboundMessage& message) {
  auto req = common::decode<common::RegisterRequest>(message.header.bytes);
  common::RegisterAck ack;
  ack.job_id = settings_.job_id;
  ack.coordinator_key = key_.public_key;
  ack.challenge = challenges_.for_peer(message.peer);
  if (req.ok() && req->challenge == common::Digest{}) {
    ack.reason = settings_.terms.empty() ? "sign this connection's challenge"
                                         : "sign this connection's challenge and consent to the job's terms";
    ack.terms = settings_.terms;
    ack.terms_signature = settings_.terms_signature;
    answer_registration(message.peer, std::move(ack));
    return;
  }
  if (!req.ok()) {
    ack.reason = req.error().message;
  } else if (auto b = check_registration_binding(*req, message, settings_.job_id, key_.public_key, ack.challenge,
                                                 settings_.require_authenticated_key);
             !b.ok()) {
    ack.reason = b.error().message;
  } else if (auto c = settings_.terms.empty() ? ok_status() : check_registration_consent(*req, common::terms_text_digest(settings_.terms));
             !c.ok()) {
    ack.reason = c.error().message;
  } else if (auto s = registry_.enrol(*req, message.peer, Clock::now(), message.source); !s.ok()) {
    ack.reason = s.error().message;
  } else {
    ack.accepted = true;
  }
  if (!ack.accepted) {
    ++engine_counts_.registrations_refused;
    warn_untrusted("registration refused: {}", ack.reason);
    answer_registration(message.peer, std::move(ack));
    return;
  }
  channel_.mark_registered(message.peer);
  spdlog::info("worker {} registered ({} samples, {})", common::short_id(req->worker_key), req->num_samples,
               req->device);
  answer_registration(message.peer, std::move(ack));
  if (open_ && open_->collector.awaiting(req->worker_key)) {
    // It rejoined while its round is open: send the task again so the round need not wait.
    spdlog::info("round {}: worker {} rejoined; task sent again", open_->collector.plan().round,
                 common::short_id(req->worker_key));
    (void)send_task(req->worker_key, open_->task_header, open_->global);
  }
}

// Only registered workers get the file; the digest must be the job's (the worker checks it too).
void RoundEngine::handle_model_file_request(const InboundMessage& message) {
  auto request = common::decode<common::ModelFileRequest>(message.header.bytes);
  if (!request.ok()) return reply_error(message.peer, "malformed model file request: " + request.error().message);
  if (!registry_.key_of(message.peer)) return reply_error(message.peer, "unknown worker: register first");
  common::ModelFileReply reply;
  reply.file_digest = request->file_digest;
  const auto& file = settings_.model_file;
  reply.found = file && request->file_digest == settings_.task_template.model_file_digest;
  if (!reply.found) {
    reply.reason = "this job serves no model file with digest " + common::to_hex(request->file_digest);
    (void)send_typed(channel_, message.peer, MessageType::kModelFileReply, reply);
    return;
  }
  spdlog::info("sending the model file ({} bytes) to worker {}", file->size(),
               common::short_id(*registry_.key_of(message.peer)));
  (void)send_typed(channel_, message.peer, MessageType::kModelFileReply, reply, *file);
}

void RoundEngine::send_ack(const common::PublicKey& worker, common::UpdateAck ack) {
  const auto* rec = registry_.find(worker);
  if (!rec) return;
  common::sign_update_ack(ack, key_.secret_key);
  (void)send_typed(channel_, rec->identity, MessageType::kUpdateAck, ack);
}

void RoundEngine::handle_update(const InboundMessage& message) {
  if (!open_) {
    credit_late_newcomer(message);
    warn_untrusted("an update arrived while no round was collecting (late?)");
    reply_error(message.peer, "no round is collecting updates now (late update?)");
    return;
  }
  auto& collector = open_->collector;
  auto outcome = collector.offer(message, registry_.key_of(message.peer));
  const auto round = collector.plan().round;
  using Kind = OfferOutcome::Kind;
  if (outcome.kind == Kind::kResend) return;
  if (outcome.equivocation && settings_.on_equivocation) settings_.on_equivocation(round, *outcome.equivocation);
  if (outcome.kind == Kind::kAccepted) {
    spdlog::debug("round {}: accepted update {}", round, common::short_id(outcome.ack.update_digest));
  } else {
    const auto* sender = registry_.key_of(message.peer);
    warn_untrusted("round {}: rejected update from {}: {}", round,
                   sender ? common::short_id(*sender) : std::string("an unregistered peer"), outcome.ack.reason);
  }
  common::sign_update_ack(outcome.ack, key_.secret_key);
  (void)send_typed(channel_, message.peer, MessageType::kUpdateAck, outcome.ack);
}

void RoundEngine::credit_late_newcomer(const InboundMessage& message) {
  // A newcomer the last round did not wait for still earns its history by answering it, late:
  // otherwise a newcomer slower than the others could never become a worker with history.
  const auto* sender = registry_.key_of(message.peer);
  if (!sender || !last_newcomers_.count(*sender) || registry_.has_answered(*sender)) return;
  auto header = common::decode<common::UpdateHeader>(message.header.bytes);
  if (!header.ok() || header->worker_key != *sender || header->round != last_round_ || header->job_id != settings_.job_id) {
    return;
  }
  if (!common::verify(*sender, common::update_signing_digest(*header), header->signature)) return;
  registry_.note_answered(*sender);
  spdlog::info("round {}: newcomer {} answered late; it now has a history", last_round_, common::short_id(*sender));
}

void RoundEngine::handle_task_error(const InboundMessage& message) {
  const auto* worker = registry_.key_of(message.peer);
  if (!worker) {
    reply_error(message.peer, "unknown worker: register first");
    return;
  }
  auto report = common::decode<common::TaskError>(message.header.bytes);
  if (!report.ok()) {
    spdlog::warn("worker {} sent a malformed task error: {}", common::short_id(*worker), report.error().message);
    return;
  }
  if (!open_ || report->job_id != settings_.job_id || report->round != open_->collector.plan().round) {
    spdlog::warn("worker {} could not do round {} of '{}': {}", common::short_id(*worker), report->round,
                 report->job_id, report->reason);
    return;
  }
  if (open_->collector.task_failed(*worker, report->reason)) {
    spdlog::warn("round {}: worker {} could not do the task: {}", report->round, common::short_id(*worker),
                 report->reason);
  }
}

void RoundEngine::shutdown_all(const std::string& reason) {
  common::Shutdown shutdown{settings_.job_id, reason, {}};
  common::sign_shutdown(shutdown, key_.secret_key);
  for (const auto& [k, rec] : registry_.all()) {
    (void)send_typed(channel_, rec.identity, MessageType::kShutdown, shutdown);
  }
}

}  // namespace fl::coordinator
