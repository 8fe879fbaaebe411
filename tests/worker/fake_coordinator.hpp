// The coordinator's side of the wire, played by a test: a ROUTER socket on 127.0.0.1 (a CURVE
// server with its own key unless plaintext) that waits for one kind of message from the worker
// and answers it, signing what a coordinator signs, so worker tests need no fl-coordinator.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "fl/common/crypto.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/common/wire.hpp"
#include "fl/common/zmq_channel.hpp"

namespace fl::test {

class FakeCoordinator {
 public:
  explicit FakeCoordinator(common::KeyPair key = common::key_pair_from_label("fake-coordinator"),
                           bool curve = true)
      : key_(std::move(key)), socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    if (curve) (void)common::set_curve_server(socket_, key_);
    endpoint_ = common::bind_socket(socket_, "tcp://127.0.0.1:0").value();
  }
  const std::string& endpoint() const { return endpoint_; }
  const common::PublicKey& key() const { return key_.public_key; }
  std::string key_hex() const { return common::to_hex(key_.public_key); }

  // The next message of `type` (others are skipped); nullopt after `timeout`.
  std::optional<common::Envelope> await(common::MessageType type,
                                        std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto msg = common::receive_message(socket_, common::SocketRole::kRouter,
                                         std::chrono::milliseconds(100));
      if (msg.ok() && msg->has_value() && (*msg)->type == type) return std::move(**msg);
    }
    return std::nullopt;
  }

  template <typename T>
  void send(const std::string& identity, common::MessageType type, const T& message,
            std::span<const std::uint8_t> payload = {}) {
    (void)common::send_typed(socket_, common::SocketRole::kRouter, identity, type, message,
                             payload);
  }

  // Waits for the worker's first contact, answers with a challenge, and waits for the signed
  // registration; then answers it with `accepted` / `reason`. The identity, or nullopt.
  std::optional<std::string> take_registration(const std::string& job_id, bool accepted,
                                               const std::string& reason,
                                               std::chrono::milliseconds timeout) {
    auto first = await(common::MessageType::kRegister, timeout);
    if (!first) return std::nullopt;
    answer_registration(first->identity, job_id, false, "sign this connection's challenge");
    auto second = await(common::MessageType::kRegister, timeout);
    if (!second) return std::nullopt;
    auto request = common::decode<common::RegisterRequest>(second->header_bytes());
    if (request.ok()) last_registration_ = *request;
    answer_registration(second->identity, job_id, accepted, reason);
    return second->identity;
  }

  // Offers `terms`, signed by `researcher`, with every challenge from now on.
  void offer_terms(const common::JobTerms& terms, const common::KeyPair& researcher) {
    terms_ = common::terms_text(terms);
    terms_signature_ = common::sign(researcher.secret_key, common::terms_digest(terms));
  }
  // The signed registration take_registration() received last.
  const std::optional<common::RegisterRequest>& last_registration() const { return last_registration_; }

  void answer_registration(const std::string& identity, const std::string& job_id, bool accepted,
                           const std::string& reason) {
    common::RegisterAck ack{accepted, reason, job_id, key_.public_key, challenge_for(identity), {}};
    if (!accepted) {
      ack.terms = terms_;
      ack.terms_signature = terms_signature_;
    }
    common::sign_register_ack(ack, key_.secret_key);
    send(identity, common::MessageType::kRegisterAck, ack);
  }

  void shutdown(const std::string& identity, const std::string& job_id, const std::string& reason) {
    common::Shutdown s{job_id, reason, {}};
    common::sign_shutdown(s, key_.secret_key);
    send(identity, common::MessageType::kShutdown, s);
  }

  void send_task(const std::string& identity, common::RoundTask task,
                 std::span<const std::uint8_t> payload) {
    common::sign_round_task(task, key_.secret_key);
    send(identity, common::MessageType::kRoundTask, task, payload);
  }

 private:
  static common::Digest challenge_for(const std::string& identity) {
    return common::blake2b_256("challenge " + identity);
  }

  common::KeyPair key_;
  std::string terms_;
  common::Signature terms_signature_{};
  std::optional<common::RegisterRequest> last_registration_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string endpoint_;
};

// A TCP port on 127.0.0.1 where nothing listens (bound once, then released).
inline std::string unused_endpoint() {
  zmq::context_t context{1};
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  return common::bind_socket(socket, "tcp://127.0.0.1:0").value();
}

}  // namespace fl::test
