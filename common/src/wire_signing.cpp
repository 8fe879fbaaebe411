// Signatures on the wire beyond updates: the registration's session binding (job, coordinator
// key, challenge) and the coordinator's signatures on what workers act on.
#include "fl/common/job_terms.hpp"
#include "fl/common/registration.hpp"
#include "fl/common/wire.hpp"

namespace fl::common {

Digest registration_session_digest(const RegisterRequest& request) {
  return Hasher()
      .text("fl-register-session-v2")
      .u32(request.version)
      .text(request.job_id)
      .array(request.coordinator_key)
      .array(request.challenge)
      .array(request.worker_key)
      .array(registration_digest(request.worker_key, request.dataset_fingerprint,
                                 request.timestamp_ms))
      .u64(request.num_samples)
      .text(request.device)
      .array(request.terms_digest)
      .finish();
}

Status verify_registration_session(const RegisterRequest& request, std::string_view job_id,
                                   const PublicKey& coordinator_key, const Digest& challenge) {
  const auto refused = [](const std::string& why) {
    return make_error(ErrorCode::kPrecondition, "registration refused: " + why);
  };
  if (request.job_id != job_id) {
    return refused("it is for job '" + request.job_id + "', this coordinator runs '" +
                   std::string(job_id) + "'");
  }
  if (request.coordinator_key != coordinator_key) {
    return refused("it names coordinator key " + short_id(request.coordinator_key) +
                   ", not this one (" + short_id(coordinator_key) + ")");
  }
  if (!equal_bytes(request.challenge, challenge)) {
    return refused(
        "it does not answer this connection's challenge (a replay from another connection?)");
  }
  if (!verify(request.worker_key, registration_session_digest(request),
              request.session_signature)) {
    return make_error(ErrorCode::kBadSignature,
                      "registration refused: session signature does not verify "
                      "for key " +
                          short_id(request.worker_key));
  }
  return ok_status();
}

namespace {
// The digest a coordinator signs: its domain and the message encoded with the signature zeroed.
template <typename T>
Digest coordinator_message_digest(std::string_view domain, T message) {
  message.signature = {};
  return Hasher().text(domain).text(encode(message)).finish();
}
}  // namespace

Digest register_ack_digest(const RegisterAck& ack) {
  return coordinator_message_digest("fl-register-ack-v1", ack);
}
void sign_register_ack(RegisterAck& ack, const SecretKey& key) {
  ack.signature = sign(key, register_ack_digest(ack));
}
bool verify_register_ack(const RegisterAck& ack, const PublicKey& key) {
  return verify(key, register_ack_digest(ack), ack.signature);
}
Digest round_task_digest(const RoundTask& task) {
  return coordinator_message_digest("fl-round-task-v1", task);
}
void sign_round_task(RoundTask& task, const SecretKey& key) {
  task.signature = sign(key, round_task_digest(task));
}
bool verify_round_task(const RoundTask& task, const PublicKey& key) {
  return verify(key, round_task_digest(task), task.signature);
}
Digest shutdown_digest(const Shutdown& shutdown) {
  return coordinator_message_digest("fl-shutdown-v1", shutdown);
}
void sign_shutdown(Shutdown& shutdown, const SecretKey& key) {
  shutdown.signature = sign(key, shutdown_digest(shutdown));
}
bool verify_shutdown(const Shutdown& shutdown, const PublicKey& key) {
  return verify(key, shutdown_digest(shutdown), shutdown.signature);
}

bool verify_registration(const RegisterRequest& request) {
  return verify(
      request.worker_key,
      registration_digest(request.worker_key, request.dataset_fingerprint, request.timestamp_ms),
      request.signature);
}

void answer_challenge(RegisterRequest& request, const RegisterAck& challenge) {
  request.job_id = challenge.job_id;
  request.coordinator_key = challenge.coordinator_key;
  request.challenge = challenge.challenge;
  request.terms_digest = challenge.terms.empty() ? Digest{} : terms_text_digest(challenge.terms);
}

bool verify_consent(const RegisterRequest& request) {
  return request.terms_digest != Digest{} &&
         verify(request.worker_key,
                consent_digest(request.worker_key, request.job_id, request.terms_digest, request.timestamp_ms),
                request.consent_signature);
}

}  // namespace fl::common
