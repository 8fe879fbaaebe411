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

}  // namespace fl::coordinator
