#include "fl/coordinator/registration_challenge.hpp"

namespace fl::coordinator {

RegistrationChallenges::RegistrationChallenges() { common::random_bytes(secret_); }

common::Digest RegistrationChallenges::for_peer(const PeerId& peer) const {
  return common::Hasher().text("fl-register-challenge-v1").array(secret_).text(peer).finish();
}

Status check_registration_binding(const common::RegisterRequest& request,
                                  const InboundMessage& message, const std::string& job_id,
                                  const common::PublicKey& coordinator_key,
                                  const common::Digest& challenge, bool require_authenticated_key) {
  FL_RETURN_IF_ERROR(
      common::verify_registration_session(request, job_id, coordinator_key, challenge));
  if (!message.authenticated_key) {
    if (!require_authenticated_key) return ok_status();
    return make_error(
        ErrorCode::kPrecondition,
        "registration refused: the connection is not authenticated (CURVE is required)");
  }
  auto curve = common::curve_public_key(request.worker_key);
  if (!curve.ok() || !common::equal_bytes(*curve, *message.authenticated_key)) {
    return make_error(ErrorCode::kPrecondition,
                      "registration refused: the connection authenticated with another key than " +
                          common::short_id(request.worker_key) + ", the key registering");
  }
  return ok_status();
}

Status check_registration_consent(const common::RegisterRequest& request, const common::Digest& terms_digest) {
  const auto job = common::to_hex(terms_digest).substr(0, 16);
  if (request.terms_digest == common::Digest{}) {
    return make_error(ErrorCode::kPrecondition,
                      "registration refused: it carries no consent to the job's terms (" + job +
                          "...); `fl-worker check` prints them, and fl-worker consents when its policy allows");
  }
  if (request.terms_digest != terms_digest) {
    return make_error(ErrorCode::kPrecondition, "registration refused: it consents to other terms (" +
                                                    common::to_hex(request.terms_digest).substr(0, 16) +
                                                    "...) than the job's (" + job + "...)");
  }
  if (!common::verify_consent(request)) {
    return make_error(ErrorCode::kBadSignature, "registration refused: the consent signature does not verify for key " +
                                                    common::short_id(request.worker_key));
  }
  return ok_status();
}

}  // namespace fl::coordinator
