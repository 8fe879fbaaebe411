// A worker's connection played by a test: a DEALER (CURVE unless plaintext) that registers the
// way fl-worker does (first contact, then the coordinator's challenge signed), for tests that
// speak the protocol by hand (forgeries, replays, floods).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "fl/common/crypto.hpp"
#include "fl/common/zmq_channel.hpp"

namespace fl::test {

// First contact (no challenge) or the answer to `challenge`, consenting to the terms it offers.
inline common::RegisterRequest registration_for(const common::KeyPair& key,
                                                const common::PublicKey& coordinator,
                                                const common::RegisterAck* challenge) {
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.num_samples = 100;
  r.dataset_fingerprint = "fp";
  r.timestamp_ms = common::now_ms();
  r.device = "cpu";
  if (challenge) common::answer_challenge(r, *challenge);
  r.coordinator_key = coordinator;  // the pinned key, whatever the answer claims
  common::sign_registration(r, key.secret_key);
  return r;
}

class WorkerConnection {
 public:
  WorkerConnection(const std::string& endpoint, const common::KeyPair& key,
                   const common::PublicKey& coordinator, bool curve = true)
      : key_(key), coordinator_(coordinator), socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    if (curve) (void)common::set_curve_client(socket_, key_, coordinator_);
    socket_.connect(endpoint);
  }

  zmq::socket_t& socket() { return socket_; }

  // The next message of `type` within `timeout` (others are skipped).
  std::optional<common::Envelope> await(common::MessageType type,
                                        std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto msg = common::receive_message(socket_, common::SocketRole::kDealer,
                                         std::chrono::milliseconds(50));
      if (msg.ok() && msg->has_value() && (*msg)->type == type) return std::move(**msg);
    }
    return std::nullopt;
  }

  template <typename T>
  void send(common::MessageType type, const T& message,
            std::span<const std::uint8_t> payload = {}) {
    (void)common::send_typed(socket_, common::SocketRole::kDealer, {}, type, message, payload);
  }
  void send_raw(common::MessageType type, const std::string& header) {
    (void)common::send_message(socket_, common::SocketRole::kDealer, {}, type, header);
  }

  // First contact, then the challenge answered. The final answer (nullopt on timeout); the
  // bytes of the signed registration are kept in `recorded` when given (for replay tests).
  std::optional<common::RegisterAck> register_worker(std::chrono::milliseconds timeout,
                                                     std::string* recorded = nullptr) {
    send(common::MessageType::kRegister,
         registration_for(key_, coordinator_, nullptr));
    auto first = answer(timeout);
    if (!first || first->accepted || first->challenge == common::Digest{}) return first;
    const auto header =
        common::encode(registration_for(key_, coordinator_, &*first));
    if (recorded) *recorded = header;
    send_raw(common::MessageType::kRegister, header);
    return answer(timeout);
  }

  std::optional<common::RegisterAck> answer(std::chrono::milliseconds timeout) {
    auto env = await(common::MessageType::kRegisterAck, timeout);
    if (!env) return std::nullopt;
    auto ack = common::decode<common::RegisterAck>(env->header_bytes());
    if (!ack.ok()) return std::nullopt;
    return *ack;
  }

 private:
  common::KeyPair key_;
  common::PublicKey coordinator_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

}  // namespace fl::test
