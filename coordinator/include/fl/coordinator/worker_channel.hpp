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
};

template <typename T>
Status send_typed(WorkerChannel& channel, const PeerId& peer, common::MessageType type,
                  const T& message, std::span<const std::uint8_t> payload = {}) {
  return channel.send(peer, type, common::encode(message), payload);
}

// The ZeroMQ ROUTER channel bound at `endpoint` ("tcp://HOST:PORT"; port 0 picks a free one).
// Messages above max_message_bytes are dropped by the socket before allocation.
struct BoundChannel {
  std::unique_ptr<WorkerChannel> channel;
  std::string endpoint;  // the endpoint actually bound
};
Result<BoundChannel> bind_zmq_channel(const std::string& endpoint, std::uint64_t max_message_bytes);

}  // namespace fl::coordinator
