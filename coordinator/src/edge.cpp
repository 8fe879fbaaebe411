#include "fl/coordinator/edge.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <zmq.hpp>

#include "fl/common/handshake_watch.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/common/merkle.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/coordinator/coordinator.hpp"
#include "fl/coordinator/round_combine.hpp"
#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/worker_channel.hpp"
#include "fl/coordinator/worker_registry.hpp"

namespace fl::coordinator {

using common::MessageType;
using Clock = std::chrono::steady_clock;

Result<PartialResult> combine_at_edge(const CollectedRound& collected, AggregationRule& rule,
                                      const UpdateBounds& bounds, const common::RoundTask& parent_task,
                                      const common::KeyPair& edge_key) {
  if (collected.accepted.empty()) {
    return make_error(ErrorCode::kUnavailable, "no update of this edge's workers was accepted (" +
                                                   collected.close_reason + ")");
  }
  std::vector<std::uint64_t> claims;
  std::vector<std::span<const float>> received;
  PartialResult out;
  for (const auto& u : collected.accepted) {
    claims.push_back(u.header.num_samples);
    received.push_back(u.values);
    out.inputs.push_back(u.digest);
    out.workers.push_back(u.header.worker_key);
  }
  auto bounded = bound_updates(received, claims, bounds, std::nullopt);
  out.clipped = bounded.clipped;
  auto combined = rule.aggregate(bounded.views);
  if (!combined.ok()) return with_context(combined.error(), "the edge's rule " + rule.name() + " refused");
  out.values = std::move(combined).value();
  double weight = 0, loss = 0, slowest = 0;
  for (std::size_t i = 0; i < collected.accepted.size(); ++i) {
    weight += bounded.weights[i];
    loss += bounded.weights[i] * collected.accepted[i].header.train_loss;
    slowest = std::max(slowest, collected.accepted[i].header.train_seconds);
  }
  auto& h = out.header;
  h.job_id = parent_task.job_id;
  h.round = parent_task.round;
  h.worker_key = edge_key.public_key;
  h.base_model_digest = parent_task.model_digest;
  h.layout = parent_task.layout;
  h.payload_digest = common::blake2b_256(common::as_bytes(std::span<const float>(out.values)));
  h.num_samples = static_cast<std::uint64_t>(std::max(1.0, std::round(weight)));
  h.train_loss = weight > 0 ? static_cast<float>(loss / weight) : 0.0f;
  h.train_seconds = slowest;
  h.inputs_root = common::merkle_root(out.inputs);
  h.inputs = out.inputs.size();
  common::sign_update(h, edge_key.secret_key);
  return out;
}

common::Receipt edge_receipt(const common::Receipt& owner_receipt, const PartialResult& partial, std::size_t i) {
  common::Receipt r = owner_receipt;
  r.update_digest = partial.inputs.at(i);
  r.edge = common::EdgeLink{partial.header, i, common::inclusion_proof(partial.inputs, i)};
  return r;
}

namespace {

constexpr std::chrono::milliseconds kPoll{50};
constexpr std::size_t kRoundsKept = 16;  // partial results waiting for the owner's receipt
// With several members: how long one may stay silent at registration, and how long the served
// one may stay unreachable before the next is tried (as fl-worker does).
constexpr std::chrono::seconds kMemberWait{4};
constexpr std::chrono::seconds kFailover{3};

// What the job's owner sent, checked against its pinned key.
struct FromParent {
  MessageType type = MessageType::kError;
  common::RoundTask task;
  std::vector<float> global;  // kRoundTask: the model (copied out of the frame)
  common::UpdateAck ack;      // kUpdateAck
  std::string reason;         // kShutdown, kError
};

// The edge's side of the link to the job's owner: a DEALER socket (CURVE, the owner's key
// pinned), registration with the owner's challenge and terms, heartbeats, and what comes back.
class ParentLink {
 public:
  ParentLink(const EdgeConfig& c, const common::KeyPair& key, const std::atomic<bool>& stop)
      : c_(c), key_(key), stop_(stop) {}

  // Connects and registers with the job's owner; the terms offered must be signed by the
  // researcher they name and list both the owner's key and this edge's key among the job's
  // coordinators. With several members: a standby's refusal that names the owner moves the link
  // to the owner, and a member that does not answer within kMemberWait to the next one.
  Status join() {
    Clock::time_point next_try, member_until;  // the next first contact; when to try the next member
    const auto reconnect = [&] {
      next_try = Clock::now();
      member_until = next_try + kMemberWait;
      return connect();
    };
    FL_RETURN_IF_ERROR(reconnect());
    const auto started = Clock::now();
    int redirects = 0;
    spdlog::info("registering with the job's owner at {} (key {})", endpoint(), common::short_id(parent_key()));
    while (true) {
      if (stop_) return make_error(ErrorCode::kUnavailable, "stopped before registering with the job's owner");
      const double waited = std::chrono::duration<double>(Clock::now() - started).count();
      if (c_.connect_timeout_s > 0 && waited > c_.connect_timeout_s) {
        return make_error(ErrorCode::kTimeout,
                          "no answer from the job's owner at " + endpoint() + " within " +
                              std::to_string(static_cast<int>(c_.connect_timeout_s)) +
                              " s; check edge.parent, that edge.parent_key is the owner's key, and that "
                              "fl-coordinator run is up there (edge.connect_timeout_s waits longer)");
      }
      if (watch_) {
        if (auto handshake = watch_->check(endpoint(), parent_key(), key_.public_key); !handshake.ok()) {
          if (!move_to(next_member())) return handshake;
          spdlog::warn("{}; trying the job's next member", handshake.error().message);
          FL_RETURN_IF_ERROR(reconnect());
        }
      }
      if (c_.parents.size() > 1 && Clock::now() >= member_until) {
        move_to(next_member());
        spdlog::info("no answer yet; trying the job's next member, at {}", endpoint());
        FL_RETURN_IF_ERROR(reconnect());
      }
      if (Clock::now() >= next_try) {
        FL_RETURN_IF_ERROR(send_registration({}, c_.job_id, {}));
        next_try = Clock::now() + std::chrono::seconds(2);
      }
      auto got = receive(kPoll);
      if (!got.ok()) return got.error();
      if (!*got) continue;
      auto& env = **got;
      if (env.type == MessageType::kShutdown) {
        return make_error(ErrorCode::kUnavailable, "the job's owner ended the job before this edge joined");
      }
      if (env.type != MessageType::kRegisterAck) continue;
      auto ack = common::decode<common::RegisterAck>(env.header_bytes());
      if (!ack.ok() || ack->coordinator_key != parent_key() || !common::verify_register_ack(*ack, parent_key())) {
        spdlog::warn("ignoring a registration answer not signed by the pinned key {}", common::short_id(parent_key()));
        continue;
      }
      if (!c_.job_id.empty() && ack->job_id != c_.job_id) {
        return make_error(ErrorCode::kPrecondition, "the coordinator at " + endpoint() + " runs job '" + ack->job_id +
                                                        "', not '" + c_.job_id + "' (edge.job)");
      }
      if (ack->accepted) {
        job_id_ = ack->job_id;
        spdlog::info("registered with the job's owner {} at {} for job '{}' as edge {}", common::short_id(parent_key()),
                     endpoint(), job_id_, common::short_id(key_.public_key));
        return ok_status();
      }
      if (ack->owner_key != common::PublicKey{}) {  // a standby names the job's owner
        constexpr int kMaxRedirects = 8;
        if (++redirects > kMaxRedirects || !move_to(member_with_key(ack->owner_key))) {
          return make_error(ErrorCode::kPrecondition, "the coordinator at " + endpoint() + " stands by and names the owner " +
                                                          common::short_id(ack->owner_key) +
                                                          ", which is not among edge.parent's members");
        }
        spdlog::info("the coordinator there stands by for this job; moving to its owner {} at {}",
                     common::short_id(ack->owner_key), endpoint());
        FL_RETURN_IF_ERROR(reconnect());
        continue;
      }
      if (ack->challenge == common::Digest{} || ack->challenge == answered_) {
        return make_error(ErrorCode::kPrecondition, "the job's owner refused this edge's registration: " + ack->reason);
      }
      FL_RETURN_IF_ERROR(check_terms(*ack));
      if (!job_id_.empty() && ack->terms != terms_) {  // a member joined again after the owner changed
        return make_error(ErrorCode::kPrecondition,
                          "the coordinator at " + endpoint() + " offers other terms for job '" + ack->job_id +
                              "' than the member this edge joined first; every member must offer the job's one set of "
                              "terms, which this edge's workers consented to");
      }
      terms_ = ack->terms;
      terms_signature_ = ack->terms_signature;
      answered_ = ack->challenge;
      FL_RETURN_IF_ERROR(send_registration(ack->challenge, ack->job_id, ack->terms));
    }
  }

  // With several members: true once the connection to the one served has been down past
  // kFailover (its owner died; another member takes the job over within its lease).
  // With a single member, a connection down that long is named in the log (once a minute).
  Result<bool> lost() {
    if (!watch_) return false;
    FL_RETURN_IF_ERROR(watch_->check(endpoint(), parent_key(), key_.public_key));
    const auto since = watch_->down_since();
    if (!since) return false;
    if (c_.parents.size() > 1) return Clock::now() - *since > kFailover;
    if (Clock::now() - *since > kFailover && Clock::now() >= next_down_warning_) {
      spdlog::warn("the job's owner at {} has been unreachable for {} s; waiting for it (list the federation's other "
                   "members in edge.parent to follow a takeover)",
                   endpoint(), std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - *since).count());
      next_down_warning_ = Clock::now() + std::chrono::minutes(1);
    }
    return false;
  }
  // Moves to the next member and registers there again.
  Status rejoin() {
    move_to(next_member());
    spdlog::warn("the job's owner stayed unreachable for {} s; registering with the next member, at {}",
                 std::chrono::duration_cast<std::chrono::seconds>(kFailover).count(), endpoint());
    return join();
  }

  // Sends a heartbeat when one is due and returns at most one checked message.
  Result<std::optional<FromParent>> poll(std::chrono::milliseconds timeout) {
    FL_ASSIGN_OR_RETURN(const bool gone, lost());
    if (gone) FL_RETURN_IF_ERROR(rejoin());
    if (Clock::now() >= next_heartbeat_) {
      (void)send(MessageType::kHeartbeat, common::encode(common::Heartbeat{key_.public_key, common::now_ms()}));
      next_heartbeat_ = Clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(c_.heartbeat_s * 1000));
    }
    FL_ASSIGN_OR_RETURN(auto got, receive(timeout));
    if (!got) return std::optional<FromParent>{};
    return checked(*got);
  }

  Status send_update(const common::UpdateHeader& h, std::span<const float> values) {
    return send(MessageType::kUpdate, common::encode(h), common::as_bytes(values));
  }
  void send_task_error(std::uint64_t round, const std::string& reason) {
    spdlog::error("round {}: {}; telling the job's owner", round, reason);
    (void)send(MessageType::kTaskError, common::encode(common::TaskError{job_id_, round, reason}));
  }

  const std::string& job_id() const { return job_id_; }
  const std::string& endpoint() const { return c_.parents[current_]; }
  const std::string& terms() const { return terms_; }
  const common::Signature& terms_signature() const { return terms_signature_; }

 private:
  const common::PublicKey& parent_key() const { return c_.parent_keys[current_]; }
  std::optional<std::size_t> next_member() const {
    if (c_.parents.size() < 2) return std::nullopt;
    return (current_ + 1) % c_.parents.size();
  }
  // The member pinned with `owner`: the next one when all share one key.
  std::optional<std::size_t> member_with_key(const common::PublicKey& owner) const {
    if (owner == parent_key()) return next_member();
    const auto& keys = c_.parent_keys;
    const auto it = std::find(keys.begin(), keys.end(), owner);
    if (it == keys.end()) return std::nullopt;
    return static_cast<std::size_t>(it - keys.begin());
  }
  bool move_to(std::optional<std::size_t> member) {
    if (!member) return false;
    current_ = *member;
    return true;
  }

  Status connect() {
    try {
      watch_.reset();
      socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
      socket_.set(zmq::sockopt::linger, 0);
      if (!c_.level.plaintext) {
        FL_RETURN_IF_ERROR(common::set_curve_client(socket_, key_, parent_key()));
        watch_.emplace(context_, socket_);
      }
      answered_ = {};
      socket_.set(zmq::sockopt::reconnect_ivl, 100);
      socket_.set(zmq::sockopt::reconnect_ivl_max, 1000);
      socket_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(c_.level.max_message_bytes));
      socket_.connect(endpoint());
    } catch (const zmq::error_t& e) {
      return make_error(ErrorCode::kIo, "cannot connect to the job's owner at " + endpoint() + ": " + e.what());
    }
    return ok_status();
  }

  Status send(MessageType type, const std::string& header, std::span<const std::uint8_t> payload = {}) {
    return common::send_message(socket_, common::SocketRole::kDealer, {}, type, header, payload);
  }

  Result<std::optional<common::Envelope>> receive(std::chrono::milliseconds timeout) {
    auto got = common::receive_message(socket_, common::SocketRole::kDealer, timeout);
    if (!got.ok()) {
      spdlog::warn("dropped a malformed message from the job's owner: {}", got.error().message);
      return std::optional<common::Envelope>{};
    }
    return std::move(got).value();
  }

  Status send_registration(const common::Digest& challenge, const std::string& job_id, const std::string& terms) {
    common::RegisterRequest req;
    req.worker_key = key_.public_key;
    req.dataset_fingerprint = "edge:" + common::to_hex(key_.public_key).substr(0, 16);
    req.timestamp_ms = common::now_ms();
    req.device = "edge";
    req.job_id = job_id;
    req.coordinator_key = parent_key();
    req.challenge = challenge;
    if (challenge != common::Digest{} && !terms.empty()) req.terms_digest = common::terms_text_digest(terms);
    common::sign_registration(req, key_.secret_key);
    return send(MessageType::kRegister, common::encode(req));
  }

  Status check_terms(const common::RegisterAck& ack) const {
    if (ack.terms.empty()) return ok_status();
    FL_ASSIGN_OR_RETURN(auto terms, common::parse_terms(ack.terms));
    const auto digest = common::terms_digest(terms);
    if (!common::verify(terms.researcher, digest, ack.terms_signature)) {
      return make_error(ErrorCode::kBadSignature, "the job's terms are not signed by the researcher they name");
    }
    const auto& allowed = terms.coordinators;
    if (std::find(allowed.begin(), allowed.end(), parent_key()) == allowed.end()) {
      return make_error(ErrorCode::kPrecondition, "the job's terms do not allow the coordinator " +
                                                      common::short_id(parent_key()) + " at " + endpoint() +
                                                      " to run the job");
    }
    if (std::find(allowed.begin(), allowed.end(), key_.public_key) == allowed.end()) {
      return make_error(ErrorCode::kPrecondition,
                        "the job's terms do not list this edge's key " + common::to_hex(key_.public_key) +
                            " among the job's coordinators, so its workers would refuse it: the researcher adds it "
                            "to [terms] coordinators in the job's config");
    }
    spdlog::info("consenting to the terms {} of job '{}' on behalf of this level; its workers are offered them too",
                 common::to_hex(digest).substr(0, 16), ack.job_id);
    return ok_status();
  }

  std::optional<FromParent> checked(common::Envelope& env) {
    FromParent m;
    m.type = env.type;
    switch (env.type) {
      case MessageType::kRoundTask: {
        auto task = common::decode<common::RoundTask>(env.header_bytes());
        if (!task.ok() || !common::verify_round_task(*task, parent_key()) || task->job_id != job_id_) {
          spdlog::warn("ignoring a round task that is malformed, for another job or not signed by the owner");
          return std::nullopt;
        }
        const auto payload = env.payload_bytes();
        if (payload.size() != task->layout.payload_bytes()) {
          spdlog::warn("round {}: ignoring a task whose model does not fit its layout", task->round);
          return std::nullopt;
        }
        m.global.resize(payload.size() / sizeof(float));
        std::memcpy(m.global.data(), payload.data(), payload.size());
        if (common::digest_of(m.global) != task->model_digest) {
          spdlog::warn("round {}: ignoring a task whose model does not match its digest", task->round);
          return std::nullopt;
        }
        m.task = std::move(task).value();
        return m;
      }
      case MessageType::kUpdateAck: {
        auto ack = common::decode<common::UpdateAck>(env.header_bytes());
        if (!ack.ok() || !common::verify_update_ack(*ack, parent_key())) {
          spdlog::warn("ignoring an acknowledgement not signed by the owner");
          return std::nullopt;
        }
        m.ack = std::move(ack).value();
        return m;
      }
      case MessageType::kShutdown: {
        auto s = common::decode<common::Shutdown>(env.header_bytes());
        if (!s.ok() || !common::verify_shutdown(*s, parent_key())) return std::nullopt;
        m.reason = s->reason;
        return m;
      }
      case MessageType::kError: {
        auto e = common::decode<common::ErrorMessage>(env.header_bytes());
        m.reason = e.ok() ? e->reason : "(malformed error)";
        return m;
      }
      default:
        return std::nullopt;
    }
  }

  const EdgeConfig& c_;
  const common::KeyPair& key_;
  const std::atomic<bool>& stop_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string job_id_, terms_;
  common::Signature terms_signature_{};
  common::Digest answered_{};
  Clock::time_point next_heartbeat_{};
  Clock::time_point next_down_warning_{};
  std::size_t current_ = 0;                     // the member served now
  std::optional<common::HandshakeWatch> watch_;  // CURVE only
};

class Edge {
 public:
  Edge(const EdgeConfig& c, common::KeyPair key, const std::atomic<bool>& stop)
      : c_(c), key_(std::move(key)), stop_(stop), link_(c, key_, stop),
        registry_(c.level.open_enrolment, c.level.allowed_workers, c.level.enrolment_limits) {}

  Status run() {
    FL_ASSIGN_OR_RETURN(rule_, make_rule(c_.level.rule, c_.level.rule_options));
    FL_RETURN_IF_ERROR(link_.join());
    FL_RETURN_IF_ERROR(open_level());
    rounds_log_.open(c_.level.output_dir / "edge_rounds.jsonl", std::ios::app);
    while (!stop_) {
      if (!queue_.empty()) {
        auto next = std::move(queue_.front());
        queue_.pop_front();
        if (auto done = handle(next); !done.ok() || over_) return done;
        continue;
      }
      engine_->pump(kPoll);  // this level's workers; the link is served by on_idle
      if (!link_error_.empty()) return make_error(ErrorCode::kIo, link_error_);
    }
    engine_->shutdown_all("the edge coordinator stopped");
    return ok_status();
  }

 private:
  Status open_level() {
    const auto& l = c_.level;
    FL_ASSIGN_OR_RETURN(auto bound, bind_zmq_channel(channel_options(l, key_)));
    channel_ = std::move(bound.channel);
    std::ofstream(l.output_dir / "endpoint") << bound.endpoint << '\n';
    // The model, layout, training settings and seed come with each of the owner's tasks (follow()).
    EngineSettings s = engine_settings(l, common::TensorLayout{});
    s.job_id = link_.job_id();
    s.require_authenticated_key = !l.plaintext;
    s.terms = link_.terms();
    s.terms_signature = link_.terms_signature();
    s.on_idle = [this] { serve_link(); };
    engine_ = std::make_unique<RoundEngine>(std::move(s), *channel_, registry_, key_, stop_);
    spdlog::info("edge {} for job '{}': rule {}, at least {} workers, listening on {}; results go to {}",
                 common::to_hex(key_.public_key), link_.job_id(), rule_->name(), l.min_workers, bound.endpoint,
                 link_.endpoint());
    return ok_status();
  }

  // Between this level's messages: heartbeats to the owner, and what it sent, queued.
  void serve_link() {
    auto got = link_.poll(std::chrono::milliseconds(0));
    if (!got.ok()) {
      link_error_ = got.error().message;
      return;
    }
    if (*got) queue_.push_back(std::move(**got));
  }

  Status handle(FromParent& m) {
    switch (m.type) {
      case MessageType::kRoundTask:
        serve_task(m);
        return ok_status();
      case MessageType::kUpdateAck:
        forward_ack(m.ack);
        return ok_status();
      case MessageType::kShutdown:
        spdlog::info("the job's owner ended job '{}': {}", link_.job_id(), m.reason);
        engine_->shutdown_all(m.reason);
        over_ = true;
        return ok_status();
      case MessageType::kError:
        spdlog::warn("the job's owner says: {}", m.reason);
        if (m.reason.find("register") != std::string::npos) return link_.join();
        return ok_status();
      default:
        return ok_status();
    }
  }

  void serve_task(FromParent& m) {
    const auto& task = m.task;
    if (std::any_of(queue_.begin(), queue_.end(), [](const FromParent& q) { return q.type == MessageType::kRoundTask; })) {
      spdlog::info("round {}: a newer task is waiting; skipping this one", task.round);
      return;
    }
    if (task.model_file_digest != common::Digest{}) {
      return link_.send_task_error(task.round, "an edge coordinator relays zoo models only, not TorchScript files");
    }
    if (task.privacy.enabled()) {
      return link_.send_task_error(task.round, "distributed DP is not accounted across an edge coordinator's level; "
                                               "run a DP job without edges");
    }
    const auto started = Clock::now();
    // This level's quorum must be registered before the parent's deadline.
    const auto deadline_ms = task.deadline_ms - static_cast<std::uint64_t>(c_.margin_s * 1000);
    const auto want = static_cast<std::size_t>(std::max(c_.level.min_workers, 1));
    while (registry_.size() < want && common::now_ms() < deadline_ms && !stop_) engine_->pump(kPoll);
    if (stop_) return;
    if (registry_.size() < want) {
      return link_.send_task_error(task.round, "only " + std::to_string(registry_.size()) + " of the " +
                                                   std::to_string(want) + " workers this edge needs are registered");
    }
    engine_->follow(task, c_.margin_s);
    auto collected = engine_->collect(task.round, m.global, task.model_digest);
    if (!collected.ok()) {
      if (!stop_) link_.send_task_error(task.round, "this edge's round failed: " + collected.error().message);
      return;
    }
    auto partial = combine_at_edge(*collected, *rule_, c_.level.close.bounds, task, key_);
    if (!partial.ok()) return link_.send_task_error(task.round, partial.error().message);
    const auto sent = link_.send_update(partial->header, partial->values);
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    spdlog::info("round {}: combined {} of {} updates with {} in {:.2f}s; partial result {} (inputs root {}) {}",
                 task.round, partial->inputs.size(), collected->sampled, rule_->name(), seconds,
                 common::short_id(common::update_signing_digest(partial->header)),
                 common::short_id(partial->header.inputs_root),
                 sent.ok() ? "sent to the owner" : "NOT SENT: " + sent.error().message);
    if (rounds_log_) {
      nlohmann::json row = {{"round", task.round},
                            {"sampled", collected->sampled},
                            {"accepted", partial->inputs.size()},
                            {"rejected", collected->rejected.size()},
                            {"clipped", partial->clipped},
                            {"close_reason", collected->close_reason},
                            {"samples", partial->header.num_samples},
                            {"update", common::to_hex(common::update_signing_digest(partial->header))},
                            {"inputs_root", common::to_hex(partial->header.inputs_root)},
                            {"seconds", seconds}};
      rounds_log_ << row.dump() << '\n';
      rounds_log_.flush();
    }
    pending_[task.round] = std::move(partial).value();
    while (pending_.size() > kRoundsKept) pending_.erase(pending_.begin());
  }

  // The owner's answer for a partial result, passed to every worker whose update it holds.
  void forward_ack(const common::UpdateAck& ack) {
    const auto it = pending_.find(ack.round);
    if (it == pending_.end() || common::update_signing_digest(it->second.header) != ack.update_digest) return;
    const auto& partial = it->second;
    if (!ack.accepted) {
      spdlog::warn("round {}: the job's owner refused this edge's partial result: {}", ack.round, ack.reason);
    }
    if (!ack.accepted || ack.receipt) {
      for (std::size_t i = 0; i < partial.inputs.size(); ++i) {
        common::UpdateAck out;
        out.job_id = ack.job_id;
        out.round = ack.round;
        out.update_digest = partial.inputs[i];
        out.accepted = ack.accepted;
        out.reason = ack.accepted ? "recorded through edge " + common::short_id(key_.public_key)
                                  : "the job's owner refused the edge's partial result: " + ack.reason;
        if (ack.receipt) out.receipt = edge_receipt(*ack.receipt, partial, i);
        engine_->send_ack(partial.workers[i], std::move(out));
      }
    }
    if (ack.receipt) {
      spdlog::info("round {}: recorded in block {} (reward {} to this edge); receipts sent to {} workers", ack.round,
                   ack.receipt->block_height, ack.receipt->reward, partial.inputs.size());
      pending_.erase(it);
    }
  }

  const EdgeConfig& c_;
  common::KeyPair key_;
  const std::atomic<bool>& stop_;
  ParentLink link_;
  WorkerRegistry registry_;
  std::unique_ptr<AggregationRule> rule_;
  std::unique_ptr<WorkerChannel> channel_;
  std::unique_ptr<RoundEngine> engine_;
  std::deque<FromParent> queue_;
  std::map<std::uint64_t, PartialResult> pending_;
  std::ofstream rounds_log_;
  std::string link_error_;
  bool over_ = false;
};

}  // namespace

Status run_edge(const EdgeConfig& config, const std::atomic<bool>& stop) {
  try {
    std::error_code ec;
    std::filesystem::create_directories(config.level.output_dir, ec);
    FL_ASSIGN_OR_RETURN(auto key, load_or_create_key(config.level.coordinator_key));
    if (config.level.plaintext) {
      spdlog::warn("RESEARCH MODE: network.plaintext = true; this level's workers and the link to the owner are not "
                   "encrypted");
    }
    if (is_research_mode(config.level.close.bounds)) {
      spdlog::warn("RESEARCH MODE: {} ([aggregation] sample_weights / norm_bound_multiple)",
                   describe(config.level.close.bounds));
    }
    Edge edge(config, std::move(key), stop);
    return edge.run();
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("ZeroMQ: ") + e.what());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, e.what());
  }
}

}  // namespace fl::coordinator
