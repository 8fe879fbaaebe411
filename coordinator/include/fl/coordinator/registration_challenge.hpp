// The challenge that makes a registration fresh and bound to one connection. It is derived from
// a secret drawn when the coordinator starts and the connection's routing id, so nothing is kept
// per connection, a registration recorded on one connection fails on any other, and one
// recorded before a restart fails after it.
#pragma once

#include "fl/common/crypto.hpp"
#include "fl/coordinator/worker_channel.hpp"

namespace fl::coordinator {

class RegistrationChallenges {
 public:
  RegistrationChallenges();  // a fresh random secret
  common::Digest for_peer(const PeerId& peer) const;

 private:
  common::Digest secret_{};
};

// Checks what binds a registration to this coordinator and this connection: job id,
// coordinator key, the connection's challenge and the session signature, and, when the
// connection authenticated with CURVE, that it authenticated as the registering key.
Status check_registration_binding(const common::RegisterRequest& request,
                                  const InboundMessage& message, const std::string& job_id,
                                  const common::PublicKey& coordinator_key,
                                  const common::Digest& challenge, bool require_authenticated_key);

// A job with terms enrols only workers that consented to exactly them (a signed digest).
Status check_registration_consent(const common::RegisterRequest& request, const common::Digest& terms_digest);

}  // namespace fl::coordinator
