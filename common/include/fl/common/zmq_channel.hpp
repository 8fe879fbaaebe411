// Small ZeroMQ helpers for the [type][header][payload] framing. The coordinator's ROUTER sees an
// extra leading identity frame; workers' DEALERs do not. Received frames are kept as
// zmq::message_t so the payload is read in place, never copied.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"

namespace fl::common {

struct Envelope {
  std::string identity;  // ROUTER only: the peer's routing id
  MessageType type = MessageType::kError;
  zmq::message_t header;
  zmq::message_t payload;  // empty when the message has none

  std::span<const std::uint8_t> header_bytes() const {
    return {static_cast<const std::uint8_t*>(header.data()), header.size()};
  }
  std::span<const std::uint8_t> payload_bytes() const {
    return {static_cast<const std::uint8_t*>(payload.data()), payload.size()};
  }
};

enum class SocketRole { kRouter, kDealer };

// Sends [identity][type][header][payload]; identity is used on ROUTER sockets only. Payload
// frame omitted when empty. Fails (kUnavailable) when the peer cannot take it right now.
Status send_message(zmq::socket_t& socket, SocketRole role, std::string_view identity,
                    MessageType type, std::string_view header,
                    std::span<const std::uint8_t> payload = {});

template <typename T>
Status send_typed(zmq::socket_t& socket, SocketRole role, std::string_view identity,
                  MessageType type, const T& message, std::span<const std::uint8_t> payload = {}) {
  return send_message(socket, role, identity, type, encode(message), payload);
}

// Waits up to `timeout` for one message. nullopt on timeout. A message with the wrong number of
// frames or an unknown type is drained and reported as kProtocol (with the sender's identity in
// `bad_identity`, so the caller can answer it) and the socket stays usable.
Result<std::optional<Envelope>> receive_message(zmq::socket_t& socket, SocketRole role,
                                                std::chrono::milliseconds timeout,
                                                std::string* bad_identity = nullptr);

// Makes `socket` a CurveZMQ client that authenticates as `own` and accepts only a server that
// proves `server` (both Ed25519 identities, converted to X25519). Call before connect().
Status set_curve_client(zmq::socket_t& socket, const KeyPair& own, const PublicKey& server);
// Makes `socket` a CurveZMQ server with the key `own`. Call before bind().
Status set_curve_server(zmq::socket_t& socket, const KeyPair& own);

// The ZAP endpoint a context's CURVE servers ask (bind a REP socket to it before they bind).
inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// Answers one ZAP request waiting on `zap` (without blocking; nothing waiting: nullopt). A CURVE
// client is admitted (200, its X25519 key in hex as the user id) when `refusal(key)` is empty;
// otherwise refused (400) with that text, which is returned. A malformed request is refused.
std::optional<std::string> answer_zap_request(zmq::socket_t& zap,
                                              const std::function<std::string(const CurvePublicKey&)>& refusal);

std::uint64_t now_ms();  // wall clock, ms since the epoch

// Ok for "tcp://HOST:PORT" (HOST a name, an IPv4 address, [IPv6] or *; PORT 0-65535) and
// "ipc://PATH"; otherwise kInvalidArgument saying "expected tcp://HOST:PORT, e.g.
// tcp://127.0.0.1:5555". Check user-given endpoints with it before ZeroMQ sees them: ZeroMQ
// reports a malformed one as an exception.
Status check_endpoint(std::string_view endpoint);

// "tcp://127.0.0.1:0" binds an ephemeral port; returns the endpoint actually bound.
Result<std::string> bind_socket(zmq::socket_t& socket, const std::string& endpoint);

}  // namespace fl::common
