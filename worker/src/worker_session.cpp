#include "worker_session.hpp"

#include "fl/common/receipt_json.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "fl/common/dp_noise.hpp"
#include "fl/common/merkle.hpp"
#include "fl/models/model_fit.hpp"
#include "fl/models/train.hpp"
#include "fl/worker/stop_signal.hpp"
#include "task_bounds.hpp"

namespace fl::worker {

using common::MessageType;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kPoll{200};
constexpr double kFirstRetrySeconds = 1.0;
constexpr double kMaxRetrySeconds = 30.0;
// With several coordinators: how long the connection may stay down before the next is tried,
// and the longest wait between registration tries (a standby takes a job within its lease TTL).
constexpr std::chrono::seconds kFailover{3};
constexpr double kMaxRetrySecondsAmongMembers = 4.0;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

}  // namespace

bool WorkerSession::stopping() const { return o_.stop_signal && o_.stop_signal->load() != 0; }

Status WorkerSession::run() {
  try {
    return serve();
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("ZeroMQ: ") + e.what());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, models::exception_summary(e));
  }
}

Result<JobCheck> WorkerSession::check() {
  check_only_ = true;
  try {
    FL_RETURN_IF_ERROR(connect());
    FL_ASSIGN_OR_RETURN(auto joined, register_with_coordinator());
    if (joined == Joined::kStopped) return make_error(ErrorCode::kUnavailable, "stopped by a signal");
    if (joined == Joined::kJobOver || !checked_) {
      return make_error(ErrorCode::kUnavailable, "the coordinator at " + endpoint() + " ended the job before answering");
    }
    return *checked_;
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("ZeroMQ: ") + e.what());
  }
}

bool WorkerSession::next_endpoint() {
  if (endpoints_.size() < 2) return false;
  current_ = (current_ + 1) % endpoints_.size();
  if (!o_.coordinator_keys.empty()) coordinator_key_ = o_.coordinator_keys.at(current_);
  spdlog::info("trying the job's next coordinator, at {} (key {})", endpoint(), common::short_id(coordinator_key_));
  return true;
}

bool WorkerSession::follow_redirect(const common::PublicKey& owner) {
  constexpr int kMaxRedirects = 8;
  if (endpoints_.size() < 2 || ++redirects_ > kMaxRedirects) return false;
  const auto from = endpoint();
  if (o_.coordinator_keys.empty() || owner == coordinator_key_) {
    if (!next_endpoint()) return false;
  } else {
    const auto it = std::find(o_.coordinator_keys.begin(), o_.coordinator_keys.end(), owner);
    if (it == o_.coordinator_keys.end()) return false;
    current_ = static_cast<std::size_t>(it - o_.coordinator_keys.begin());
    coordinator_key_ = owner;
  }
  spdlog::info("the coordinator at {} stands by for this job; moving to its owner {} at {}", from,
               common::short_id(owner), endpoint());
  return true;
}

Result<bool> WorkerSession::coordinator_lost() {
  if (endpoints_.size() < 2 || !watch_) return false;
  FL_RETURN_IF_ERROR(watch_->check(endpoint(), coordinator_key_, key_.public_key));
  const auto since = watch_->down_since();
  return since && Clock::now() - *since > kFailover;
}

Status WorkerSession::connect() {
  try {
    watch_.reset();
    socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    socket_.set(zmq::sockopt::linger, 0);
    if (!o_.plaintext) {
      FL_RETURN_IF_ERROR(common::set_curve_client(socket_, key_, coordinator_key_));
      watch_.emplace(context_, socket_);
    }
    answered_challenge_ = {};
    challenge_answers_ = 0;
    socket_.set(zmq::sockopt::reconnect_ivl, 100);
    socket_.set(zmq::sockopt::reconnect_ivl_max, 1000);
    socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 32);
    socket_.connect(endpoint());
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, "cannot connect to " + endpoint() + ": " + e.what());
  }
  return ok_status();
}

bool WorkerSession::signed_shutdown(const common::Envelope& env, std::string* reason) const {
  auto s = common::decode<common::Shutdown>(env.header_bytes());
  if (!s.ok() || !common::verify_shutdown(*s, coordinator_key_)) {
    spdlog::warn("ignoring a shutdown not signed by the coordinator key {}", common::short_id(coordinator_key_));
    return false;
  }
  *reason = s->reason;
  return true;
}

std::string WorkerSession::registration_header(const common::Digest& challenge,
                                               const std::string& job_id) const {
  common::RegisterRequest req;
  req.worker_key = key_.public_key;
  req.num_samples = local_.indices.size();
  req.dataset_fingerprint = local_.fingerprint;
  req.timestamp_ms = common::now_ms();
  req.device = device_.str();
  req.job_id = job_id;
  req.coordinator_key = coordinator_key_;
  req.challenge = challenge;
  if (challenge != common::Digest{}) req.terms_digest = consent_;
  common::sign_registration(req, key_.secret_key);
  return common::encode(req);
}

// Registration answers, each signed by the pinned coordinator key: a challenge (answered by a
// registration signed over it), an acceptance, a refusal (an error), or a Shutdown (the
// coordinator gave up waiting for workers). Anything else is not an answer.
std::optional<Result<WorkerSession::Joined>> WorkerSession::answer_to_registration(
    const common::Envelope& env) {
  if (env.type == MessageType::kShutdown) {
    std::string reason;
    if (!signed_shutdown(env, &reason)) return std::nullopt;
    spdlog::info("coordinator at {} ended the job before this worker joined: {}", endpoint(), reason);
    return Result<Joined>(Joined::kJobOver);
  }
  if (env.type != MessageType::kRegisterAck) return std::nullopt;
  auto ack = common::decode<common::RegisterAck>(env.header_bytes());
  if (!ack.ok()) {
    spdlog::warn("ignoring malformed registration answer: {}", ack.error().message);
    return std::nullopt;
  }
  if (ack->coordinator_key != coordinator_key_ || !common::verify_register_ack(*ack, coordinator_key_)) {
    spdlog::warn("ignoring a registration answer not signed by the pinned coordinator key {}",
                 common::short_id(coordinator_key_));
    return std::nullopt;
  }
  if (!o_.job_id.empty() && ack->job_id != o_.job_id) {
    return Result<Joined>(make_error(ErrorCode::kPrecondition, "the coordinator at " + endpoint() +
                                                                   " runs job '" + ack->job_id +
                                                                   "', not '" + o_.job_id + "' of the job card"));
  }
  if (!ack->accepted && ack->challenge != common::Digest{} && ack->challenge != answered_challenge_) {
    if (++challenge_answers_ > 3) return std::nullopt;  // a coordinator that keeps changing it
    auto judged = judge_offered_terms(*ack, o_, coordinator_key_);
    if (!judged.ok()) return Result<Joined>(judged.error());
    checked_ = *judged;
    if (check_only_) return Result<Joined>(Joined::kChecked);
    if (judged->refusal) {
      return Result<Joined>(make_error(ErrorCode::kPrecondition, "this worker's policy refuses job '" + ack->job_id +
                                                                     "': " + *judged->refusal));
    }
    if (judged->terms && judged->digest != consent_) {
      spdlog::info("consenting to the terms {} of job '{}' ({}; `fl-worker check` prints them)",
                   common::to_hex(judged->digest).substr(0, 16), ack->job_id,
                   o_.policy ? "allowed by " + o_.policy->source : "no --policy given: any signed terms");
    }
    consent_ = judged->digest;
    answered_challenge_ = ack->challenge;
    (void)send(MessageType::kRegister, registration_header(ack->challenge, ack->job_id));
    return std::nullopt;
  }
  if (!ack->accepted && ack->owner_key != common::PublicKey{}) {
    if (follow_redirect(ack->owner_key)) return Result<Joined>(Joined::kRedirected);
    return Result<Joined>(make_error(
        ErrorCode::kPrecondition, "coordinator at " + endpoint() + " refused registration: " + ack->reason +
                                      "; give the worker every member of the job (--coordinator A,B,... with "
                                      "--coordinator-key KA,KB,...)"));
  }
  if (!ack->accepted) {
    return Result<Joined>(
        make_error(ErrorCode::kPrecondition,
                   "coordinator at " + endpoint() + " refused registration: " + ack->reason));
  }
  redirects_ = 0;
  job_id_ = ack->job_id;
  spdlog::info("registered with {} (key {}, {}) for job '{}' as {} ({} samples)", endpoint(),
               common::short_id(coordinator_key_), o_.plaintext ? "plaintext" : "CURVE", job_id_,
               common::short_id(key_.public_key), local_.indices.size());
  return Result<Joined>(Joined::kRegistered);
}

// Sends Register, waits, and asks again with exponential backoff (capped) until the
// coordinator answers, connect_timeout_s passes, the handshake shows the coordinator is not the
// pinned one, or a stop signal arrives.
Result<WorkerSession::Joined> WorkerSession::register_with_coordinator() {
  const auto first_contact = [&] {
    answered_challenge_ = {};
    challenge_answers_ = 0;
    return registration_header(common::Digest{}, o_.job_id);
  };
  const auto started = Clock::now();
  const bool forever = o_.connect_timeout_s <= 0;
  const auto deadline = started + to_ms(o_.connect_timeout_s);
  double wait_s = kFirstRetrySeconds;
  spdlog::info("connecting to {} to register", endpoint());
  (void)send(MessageType::kRegister, first_contact());
  while (true) {
    auto until = Clock::now() + to_ms(wait_s);
    if (!forever) until = std::min(until, deadline);
    while (Clock::now() < until) {
      if (stopping()) return Joined::kStopped;
      if (watch_) FL_RETURN_IF_ERROR(watch_->check(endpoint(), coordinator_key_, key_.public_key));
      auto msg = common::receive_message(socket_, common::SocketRole::kDealer, kPoll);
      if (!msg.ok() || !msg->has_value()) continue;
      auto answer = answer_to_registration(**msg);
      if (!answer) continue;
      if (answer->ok() && **answer == Joined::kRedirected) {
        FL_RETURN_IF_ERROR(connect());
        (void)send(MessageType::kRegister, first_contact());
        continue;
      }
      return std::move(*answer);
    }
    if (stopping()) return Joined::kStopped;
    const double waited_s = std::chrono::duration<double>(Clock::now() - started).count();
    if (!forever && Clock::now() >= deadline) {
      return make_error(ErrorCode::kTimeout,
                        "no answer from the coordinator at " + endpoint() + " after " +
                            std::to_string(static_cast<int>(waited_s)) +
                            " s; check the address and that fl-coordinator is running there "
                            "(--connect-timeout SECONDS waits longer, 0 forever)");
    }
    // The coordinator may be down or restarting: a fresh socket (to the next of the job's
    // coordinators, when there are several), and ask again.
    const bool moved = next_endpoint();
    FL_RETURN_IF_ERROR(connect());
    (void)send(MessageType::kRegister, first_contact());
    wait_s = std::min(wait_s * 2, moved ? kMaxRetrySecondsAmongMembers : kMaxRetrySeconds);
    spdlog::warn("connecting to {}; no answer yet after {:.0f}s, retrying (next try in {:.0f}s)",
                 endpoint(), waited_s, wait_s);
  }
}

Status WorkerSession::prepare_model(const common::RoundTask& task) {
  const bool shipped = task.model_file_digest != common::Digest{};
  const std::string spec =
      shipped ? "torchscript:" + cached_model_path(task.model_file_digest).string() : task.model;
  if (!model_ || model_->spec() != spec) {
    model_.reset();
    FL_ASSIGN_OR_RETURN(auto made, models::make_model(spec, 0, models::input_of(local_.data)));
    made->to(device_);
    model_misfit_.reset();
    if (auto fits = models::check_model_fits(*made, local_.data); !fits.ok()) {
      model_misfit_ = with_context(fits.error(), "local data");
    }
    model_ = std::move(made);
  }
  if (model_misfit_) return *model_misfit_;
  if (!(model_->layout() == task.layout)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the coordinator's model '" + task.model + "' has layout " +
                          task.layout.describe() + " but built for the local data (" +
                          models::describe_shape(local_.data.input_shape) + ", " +
                          std::to_string(local_.data.num_classes) + " classes) it has " +
                          model_->layout().describe() +
                          "; the worker's data must have the job's input shape and classes");
  }
  return ok_status();
}

Status WorkerSession::do_task(const common::RoundTask& task, const common::Envelope& env) {
  FL_RETURN_IF_ERROR(check_task_bounds(task, o_.bounds));
  if (o_.policy && !may_train_at(*o_.policy, std::time(nullptr))) {
    return make_error(ErrorCode::kPrecondition, "outside the hours this worker may train (" + o_.policy->source +
                                                    ": hours = \"" + to_string(*o_.policy->hours) + "\", local time)");
  }
  // ZeroMQ may hand over a frame at any byte offset of its receive buffer (it depends on the
  // header's length): copy the parameters when they are not float-aligned.
  auto payload = env.payload_bytes();
  std::vector<float> aligned;
  if (reinterpret_cast<std::uintptr_t>(payload.data()) % alignof(float) != 0) {
    aligned.resize(payload.size() / sizeof(float) + 1);
    std::memcpy(aligned.data(), payload.data(), payload.size());
    payload = {reinterpret_cast<const std::uint8_t*>(aligned.data()), payload.size()};
  }
  FL_ASSIGN_OR_RETURN(auto global, common::view_payload(task.layout, payload));
  if (common::digest_of(global) != task.model_digest) {
    return make_error(ErrorCode::kCorrupt, "the task's model does not match its digest");
  }
  FL_RETURN_IF_ERROR(prepare_model(task));
  FL_RETURN_IF_ERROR(model_->set_flat_parameters(global));
  const auto train =
      models::train_options(task.training, common::local_training_seed(task.seed, key_.public_key));
  models::TrainResult result;
  std::vector<float> delta;
  if (attack_trains(o_.attack.kind)) {
    const std::span<const std::int64_t> share(local_.indices);
    FL_ASSIGN_OR_RETURN(result, models::train_local(*model_, local_.data,
                                                    share.first(trained_examples(o_.attack, share.size())), train));
    delta = model_->flat_parameters();
    for (std::size_t i = 0; i < delta.size(); ++i) delta[i] -= global[i];
    apply_update_attack(o_.attack, task.round, delta);
  } else {
    delta = free_rider_update(o_.attack, task.round, global, previous_global_);
  }
  // Only the replaying free riders look back a round: an honest worker keeps no model copy.
  if (!attack_trains(o_.attack.kind)) previous_global_.assign(global.begin(), global.end());
  if (task.privacy.enabled()) {
    // Distributed DP: clip and add this worker's noise share from the OS's randomness, which
    // the coordinator cannot know (the task's seed it chose itself).
    std::array<std::uint8_t, 8> seed_bytes{};
    common::random_bytes(seed_bytes);
    common::privatize_local_update(delta, task.privacy, std::bit_cast<std::uint64_t>(seed_bytes));
  }
  const auto honest = local_.indices.size() * static_cast<std::uint64_t>(std::max(task.training.epochs, 1));
  result.num_samples = static_cast<std::int64_t>(
      claimed_samples(o_.attack, static_cast<std::uint64_t>(result.num_samples), honest));

  common::UpdateHeader h;
  h.job_id = job_id_;
  h.round = task.round;
  h.worker_key = key_.public_key;
  h.base_model_digest = task.model_digest;
  h.layout = task.layout;
  h.payload_digest = common::blake2b_256(common::as_bytes(delta));
  h.num_samples = static_cast<std::uint64_t>(result.num_samples);
  h.train_loss = static_cast<float>(result.mean_loss);
  h.train_seconds = result.seconds;
  common::sign_update(h, key_.secret_key);
  if (common::now_ms() > task.deadline_ms) {
    spdlog::warn("round {}: finished after the deadline; sending anyway", task.round);
  }
  auto s = send(MessageType::kUpdate, common::encode(h), common::as_bytes(delta));
  spdlog::info("round {}: trained {} samples in {:.2f}s, loss {:.4f}, update {} {}", task.round,
               result.num_samples, result.seconds, result.mean_loss,
               common::short_id(common::update_signing_digest(h)),
               s.ok() ? "sent" : s.error().message);
  return ok_status();
}

void WorkerSession::report_task_error(const common::RoundTask& task, const Error& error) {
  spdlog::error("round {}: cannot do this task: {}; telling the coordinator", task.round,
                error.message);
  const common::TaskError message{job_id_, task.round, error.message};
  if (auto s = send(MessageType::kTaskError, common::encode(message)); !s.ok()) {
    spdlog::warn("round {}: could not report the task error: {}", task.round, s.error().message);
  }
}

std::filesystem::path WorkerSession::cached_model_path(const common::Digest& digest) const {
  return o_.model_cache_dir / (common::to_hex(digest) + ".pt");
}

// A cached file counts once its bytes hash to the digest (checked once per run).
bool WorkerSession::have_model_file(const common::Digest& digest) {
  if (verified_model_files_.contains(digest)) return true;
  std::ifstream in(cached_model_path(digest), std::ios::binary);
  if (!in) return false;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (common::blake2b_256(bytes) != digest) return false;
  verified_model_files_.insert(digest);
  return true;
}

void WorkerSession::request_model_file(const common::Digest& digest, common::Envelope task) {
  const bool asked = waiting_task_.has_value();
  waiting_task_ = std::move(task);  // a newer task replaces an older one that waits
  if (asked) return;
  spdlog::info("fetching the model file {} from the coordinator", common::short_id(digest));
  (void)send(MessageType::kModelFileRequest, common::encode(common::ModelFileRequest{digest}));
}

void WorkerSession::handle_model_file(const common::Envelope& env) {
  auto reply = common::decode<common::ModelFileReply>(env.header_bytes());
  if (!reply.ok() || !waiting_task_) return;
  auto waiting = std::move(*waiting_task_);
  waiting_task_.reset();
  auto task = common::decode<common::RoundTask>(waiting.header_bytes());
  if (!task.ok() || task->model_file_digest != reply->file_digest) return;
  const auto fail = [&](const std::string& why) {
    report_task_error(*task, make_error(ErrorCode::kUnavailable, "model file " +
                                                                    common::short_id(reply->file_digest) +
                                                                    ": " + why));
  };
  if (!reply->found) return fail("the coordinator cannot send it: " + reply->reason);
  if (common::blake2b_256(env.payload_bytes()) != reply->file_digest) {
    return fail("the bytes received do not match the digest the task names");
  }
  const auto path = cached_model_path(reply->file_digest);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const auto partial = path.string() + ".part";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(env.payload_bytes().data()),
              static_cast<std::streamsize>(env.payload_bytes().size()));
    if (!out) return fail("cannot write it to " + partial + " (--model-cache DIR)");
  }
  std::filesystem::rename(partial, path, ec);
  if (ec) return fail("cannot store it as " + path.string() + ": " + ec.message());
  verified_model_files_.insert(reply->file_digest);
  spdlog::info("model file {} ({} bytes) cached as {}", common::short_id(reply->file_digest),
               env.payload_bytes().size(), path.string());
  serve_task(std::move(waiting));
}

// The round boundary: whatever goes wrong in one task is reported and the worker goes on.
void WorkerSession::serve_task(common::Envelope env) {
  auto task = common::decode<common::RoundTask>(env.header_bytes());
  if (!task.ok()) {
    spdlog::warn("ignoring malformed round task: {}", task.error().message);
    return;
  }
  if (!common::verify_round_task(*task, coordinator_key_)) {
    spdlog::warn("round {}: ignoring a task not signed by the coordinator key {}", task->round,
                 common::short_id(coordinator_key_));
    return;
  }
  if (task->job_id != job_id_) {
    spdlog::warn("ignoring task for job '{}' (registered for '{}')", task->job_id, job_id_);
    return;
  }
  if (!task->checkpoint.empty()) {
    offer_checkpoint(*task);
    if (misbehaviour_) return;  // no work for a ledger that went back on what its witnesses signed
  }
  if (task->model_file_digest != common::Digest{} && !have_model_file(task->model_file_digest)) {
    return request_model_file(task->model_file_digest, std::move(env));
  }
  Status done = ok_status();
  try {
    done = do_task(*task, env);
  } catch (const std::exception& e) {
    done = make_error(ErrorCode::kInternal, models::exception_summary(e));
  }
  if (!done.ok()) report_task_error(*task, done.error());
}

void WorkerSession::offer_checkpoint(const common::RoundTask& task) {
  if (!checkpoints_) return;
  auto cp = common::cosigned_checkpoint_from_json(task.checkpoint);
  if (!cp.ok()) {
    spdlog::warn("ignoring a malformed ledger checkpoint in the task: {}", cp.error().message);
    return;
  }
  auto offered = checkpoints_->offer(*cp);
  if (!offered.ok()) {
    spdlog::warn("ignoring the task's ledger checkpoint at height {}: {}", cp->checkpoint.height,
                 offered.error().message);
    return;
  }
  if (offered->adopted) {
    spdlog::info("ledger final at height {} (head {}): {} cosignatures, kept in {}", cp->checkpoint.height,
                 common::to_hex(cp->checkpoint.head_hash).substr(0, 16), cp->cosignatures.size(),
                 o_.checkpoint_file.string());
  }
  if (!offered->misbehaviour) return settle_receipts(*cp, task.chain_headers);
  const auto& e = *offered->misbehaviour;
  auto evidence = o_.checkpoint_file;
  evidence += ".misbehaviour.json";
  const std::string text = common::checkpoint_evidence_to_json(e);
  const auto written = common::write_file_durably(evidence, text);
  misbehaviour_ = make_error(
      ErrorCode::kCorrupt,
      std::string(kLedgerMisbehaviour) + ": the coordinator at " + endpoint() + " handed over a checkpoint the witnesses cosigned that " +
          "conflicts with the one this worker holds (" + e.conflict + "); both cosigned checkpoints are " +
          (written.ok() ? "in " + evidence.string() : "below (" + written.error().message + "):\n" + text) +
          ". The worker stops: report it to the federation's members");
  spdlog::error("{}", misbehaviour_->message);
}

void WorkerSession::settle_receipts(const common::CosignedCheckpoint& cp,
                                    std::span<const common::BlockHeader> headers) {
  std::optional<Error> broken;  // the first link that did not hold (one warning a task)
  std::size_t unlinked = 0;
  std::erase_if(unsettled_, [&](const Unsettled& u) {
    const auto& r = u.receipt;
    if (r.block_height > cp.checkpoint.height) return false;
    auto linked = common::verify_under_checkpoint(cp.checkpoint, headers, r.block_height, r.block_hash, r.merkle_root);
    if (!linked.ok()) {
      if (!headers.empty() && headers.front().height <= r.block_height) {
        ++unlinked;
        if (!broken) broken = linked.error();
      }
      return false;  // a later task may carry the headers
    }
    spdlog::info("round {}: receipt final: block {} is under the checkpoint at height {} that {} witnesses cosigned",
                 u.round, r.block_height, cp.checkpoint.height, cp.cosignatures.size());
    if (final_receipts_.is_open()) {
      final_receipts_ << common::settled_receipt_to_json_line(u.job_id, u.round, r, cp) << '\n';
      final_receipts_.flush();
    }
    return true;
  });
  if (broken) {
    spdlog::warn("{} receipt(s) not settled by the task's checkpoint at height {}: {}", unlinked, cp.checkpoint.height,
                 broken->message);
  }
}

void WorkerSession::handle_ack(const common::Envelope& env) {
  auto ack = common::decode<common::UpdateAck>(env.header_bytes());
  if (!ack.ok()) {
    spdlog::warn("ignoring malformed acknowledgement: {}", ack.error().message);
    return;
  }
  if (!common::verify_update_ack(*ack, coordinator_key_)) {
    spdlog::warn("round {}: acknowledgement not signed by the coordinator; ignored", ack->round);
    return;
  }
  if (!ack->accepted) {
    spdlog::warn("round {}: update {} rejected: {}", ack->round,
                 common::short_id(ack->update_digest), ack->reason);
    return;
  }
  if (!ack->receipt) return;
  const auto& r = *ack->receipt;
  const auto edge = common::verify_edge_link(r);
  const bool included =
      edge.ok() && common::verify_inclusion(r.tx_hash, r.leaf_index, r.tree_size, r.proof, r.merkle_root);
  if (r.edge) {
    spdlog::info("round {}: receipt for update {}: through edge {} (partial result {}), block {}, Merkle proofs {}",
                 ack->round, common::short_id(r.update_digest), common::short_id(r.edge->edge_update.worker_key),
                 common::short_id(common::recorded_update(r)), r.block_height,
                 included ? "verified" : "INVALID" + (edge.ok() ? std::string() : ": " + edge.error().message));
  } else {
    spdlog::info("round {}: receipt for update {}: block {}, reward {}, Merkle proof {}", ack->round,
                 common::short_id(r.update_digest), r.block_height, r.reward, included ? "verified" : "INVALID");
  }
  if (receipts_.is_open()) {
    receipts_ << common::receipt_to_json_line(ack->job_id, ack->round, r, included) << '\n';
    receipts_.flush();
  }
  constexpr std::size_t kMaxUnsettled = 4096;
  if (checkpoints_ && included) {
    if (unsettled_.size() >= kMaxUnsettled) unsettled_.erase(unsettled_.begin());
    unsettled_.push_back({ack->job_id, ack->round, r});
  }
}

Status WorkerSession::serve() {
  const auto stopped = [&] {
    spdlog::info("worker stopped by signal ({})", signal_name(o_.stop_signal->load()));
    return ok_status();
  };
  if (!o_.receipts_file.empty()) receipts_.open(o_.receipts_file, std::ios::app);
  if (!o_.receipts_file.empty() && !o_.checkpoint_witnesses.empty()) {
    auto settled = o_.receipts_file;
    settled += ".final";
    final_receipts_.open(settled, std::ios::app);
  }
  if (!o_.checkpoint_witnesses.empty()) {
    auto keeper = common::CheckpointKeeper::open(o_.checkpoint_file, o_.checkpoint_witnesses, o_.checkpoint_quorum);
    if (!keeper.ok()) return with_context(keeper.error(), "--checkpoint " + o_.checkpoint_file.string());
    checkpoints_.emplace(std::move(keeper).value());
    if (const auto& held = checkpoints_->latest()) {
      spdlog::info("holding the ledger checkpoint at height {} (head {}) from {}", held->checkpoint.height,
                   common::to_hex(held->checkpoint.head_hash).substr(0, 16), o_.checkpoint_file.string());
    }
  }
  FL_RETURN_IF_ERROR(connect());
  FL_ASSIGN_OR_RETURN(auto joined, register_with_coordinator());
  if (joined == Joined::kStopped) return stopped();
  if (joined == Joined::kJobOver) return ok_status();
  auto next_heartbeat = Clock::now();
  const auto beat = to_ms(o_.heartbeat_s);
  while (true) {
    if (stopping()) return stopped();
    FL_ASSIGN_OR_RETURN(const bool lost, coordinator_lost());
    if (lost) {
      spdlog::warn("the coordinator at {} has been unreachable for {} s", endpoint(), kFailover.count());
      next_endpoint();
      FL_RETURN_IF_ERROR(connect());
      FL_ASSIGN_OR_RETURN(joined, register_with_coordinator());
      if (joined == Joined::kStopped) return stopped();
      if (joined == Joined::kJobOver) return ok_status();
      continue;
    }
    if (Clock::now() >= next_heartbeat) {
      (void)send(MessageType::kHeartbeat,
                 common::encode(common::Heartbeat{key_.public_key, common::now_ms()}));
      next_heartbeat = Clock::now() + beat;
    }
    auto msg = common::receive_message(socket_, common::SocketRole::kDealer, kPoll);
    if (!msg.ok()) {
      spdlog::warn("dropped a malformed message: {}", msg.error().message);
      continue;
    }
    if (!msg->has_value()) continue;
    auto& env = **msg;
    switch (env.type) {
      case MessageType::kRoundTask:
        serve_task(std::move(env));
        if (misbehaviour_) return *misbehaviour_;
        break;
      case MessageType::kModelFileReply:
        handle_model_file(env);
        break;
      case MessageType::kUpdateAck:
        handle_ack(env);
        break;
      case MessageType::kShutdown: {
        std::string reason;
        if (!signed_shutdown(env, &reason)) break;
        spdlog::info("coordinator ended job '{}': {}", job_id_, reason);
        if (!unsettled_.empty()) {
          spdlog::info("{} receipt(s) are not final yet: no checkpoint the witnesses cosigned reached their blocks "
                       "while the job ran (check them later with `fl-ledger verify-proof --block-hash`)",
                       unsettled_.size());
        }
        return ok_status();
      }
      case MessageType::kError: {
        auto e = common::decode<common::ErrorMessage>(env.header_bytes());
        spdlog::warn("coordinator says: {}", e.ok() ? e->reason : "(malformed error)");
        if (e.ok() && e->reason.find("register") != std::string::npos) {
          FL_ASSIGN_OR_RETURN(joined, register_with_coordinator());  // it restarted and forgot us
          if (joined == Joined::kStopped) return stopped();
          if (joined == Joined::kJobOver) return ok_status();
        }
        break;
      }
      default:
        spdlog::warn("ignoring unexpected {} message", common::to_string(env.type));
    }
  }
}

}  // namespace fl::worker
