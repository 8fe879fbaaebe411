// The coordinator's link to its workers, and the only thing the round engine knows of the
// network: messages in (receive) and messages out (send) by peer. The ZeroMQ ROUTER channel is
// the real implementation; the simulator's virtual workers and the tests' fake are others, so
// every decision about a round is made by code that runs the same over all of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"

namespace fl::coordinator {

// A connection's routing identity (opaque; not a worker key: a key is bound to a peer only by
// a verified registration).
using PeerId = std::string;

// Bytes kept where they arrived (a ZeroMQ frame, a test's buffer): `owner` keeps `bytes` alive,
// so a payload is validated and aggregated in place, never copied.
struct SharedBytes {
  std::shared_ptr<const void> owner;
  std::span<const std::uint8_t> bytes;

  static SharedBytes copy_of(std::span<const std::uint8_t> data);
  static SharedBytes copy_of(std::string_view data);
};

struct InboundMessage {
  PeerId peer;
  common::MessageType type = common::MessageType::kError;
  SharedBytes header;
  SharedBytes payload;  // empty when the message has none
  std::string source;   // the peer's network address ("" when unknown): per-source limits
  // The X25519 key the connection authenticated with (CURVE); unset on a plaintext channel.
  std::optional<common::CurvePublicKey> authenticated_key;
};

class WorkerChannel {
 public:
  virtual ~WorkerChannel() = default;
  // One message, or nullopt when none arrived within `timeout`. A frame sequence that is not a
  // message is an error naming the peer it came from (the engine answers and goes on).
  struct Received {
    std::optional<InboundMessage> message;
    std::optional<PeerId> malformed_from;  // set with an error reason when frames were bad
    std::string error;
  };
  virtual Received receive(std::chrono::milliseconds timeout) = 0;
  // kUnavailable when the peer is gone or cannot take the message now.
  virtual Status send(const PeerId& peer, common::MessageType type, std::string_view header,
                      std::span<const std::uint8_t> payload = {}) = 0;
  // The engine enrolled the worker on this connection: the channel stops timing it out as a
  // connection that never registers.
  virtual void mark_registered(const PeerId& /*peer*/) {}
};

template <typename T>
Status send_typed(WorkerChannel& channel, const PeerId& peer, common::MessageType type,
                  const T& message, std::span<const std::uint8_t> payload = {}) {
  return channel.send(peer, type, common::encode(message), payload);
}

// How the ZeroMQ channel admits peers. CURVE is on unless `plaintext` (research mode, logged):
// the server key derives from the coordinator's Ed25519 key, and the ZAP handler admits only
// keys the enrolment policy allows (any key under open enrolment). Connections are limited per
// source address and in total (the total also kept well below the descriptor limit, which is
// raised at bind), and a connection that has not registered within register_timeout_s is
// dropped.
struct ChannelOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";  // port 0 picks a free one
  std::uint64_t max_message_bytes = 64ull << 20;  // larger messages are dropped before allocation
  bool plaintext = false;
  const common::KeyPair* server_key = nullptr;     // required unless plaintext
  bool open_enrolment = false;
  std::vector<common::PublicKey> allowed_workers;  // the allow-list when not open
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_address = 64;
  double register_timeout_s = 10;
};

struct BoundChannel {
  std::unique_ptr<WorkerChannel> channel;
  std::string endpoint;  // the endpoint actually bound
  std::size_t max_connections = 0;  // the total limit in force (after the descriptor limit)
};
Result<BoundChannel> bind_zmq_channel(const ChannelOptions& options);

}  // namespace fl::coordinator
