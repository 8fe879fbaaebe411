// WorkerChannel over a ZeroMQ ROUTER socket: [identity][type][header][payload?]. The frames are
// kept as zmq::message_t behind SharedBytes, so payloads are read in place.
#include <zmq.hpp>

#include "fl/common/zmq_channel.hpp"
#include "fl/coordinator/worker_channel.hpp"

namespace fl::coordinator {

SharedBytes SharedBytes::copy_of(std::span<const std::uint8_t> data) {
  auto owned = std::make_shared<std::vector<std::uint8_t>>(data.begin(), data.end());
  std::span<const std::uint8_t> view(owned->data(), owned->size());
  return {std::move(owned), view};
}

SharedBytes SharedBytes::copy_of(std::string_view data) {
  return copy_of({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}

namespace {

SharedBytes hold(zmq::message_t&& frame) {
  // ZeroMQ may place a frame at any byte offset of its receive buffer (it depends on the
  // lengths of the frames before it); payloads are read as floats, so an unaligned one is copied.
  if (reinterpret_cast<std::uintptr_t>(frame.data()) % alignof(float) != 0) {
    return SharedBytes::copy_of({static_cast<const std::uint8_t*>(frame.data()), frame.size()});
  }
  auto owned = std::make_shared<zmq::message_t>(std::move(frame));
  std::span<const std::uint8_t> view(static_cast<const std::uint8_t*>(owned->data()), owned->size());
  return {std::move(owned), view};
}

class ZmqWorkerChannel final : public WorkerChannel {
 public:
  ZmqWorkerChannel() : socket_(context_, zmq::socket_type::router) {}

  Result<std::string> bind(const std::string& endpoint, std::uint64_t max_message_bytes) {
    try {
      socket_.set(zmq::sockopt::linger, 0);
      socket_.set(zmq::sockopt::router_mandatory, 1);
      socket_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(max_message_bytes));
      socket_.set(zmq::sockopt::sndhwm, 0);
    } catch (const zmq::error_t& e) {
      return make_error(ErrorCode::kIo, std::string("cannot set up the ROUTER socket: ") + e.what());
    }
    return common::bind_socket(socket_, endpoint);
  }

  Received receive(std::chrono::milliseconds timeout) override {
    Received out;
    std::string bad_identity;
    auto r = common::receive_message(socket_, common::SocketRole::kRouter, timeout, &bad_identity);
    if (!r.ok()) {
      out.error = r.error().message;
      if (!bad_identity.empty()) out.malformed_from = bad_identity;
      return out;
    }
    if (!r->has_value()) return out;
    auto& env = **r;
    const char* address = zmq_msg_gets(env.header.handle(), "Peer-Address");  // per-source limits
    out.message = InboundMessage{std::move(env.identity), env.type, hold(std::move(env.header)),
                                 env.payload.size() ? hold(std::move(env.payload)) : SharedBytes{},
                                 address ? address : ""};
    return out;
  }

  Status send(const PeerId& peer, common::MessageType type, std::string_view header,
              std::span<const std::uint8_t> payload) override {
    return common::send_message(socket_, common::SocketRole::kRouter, peer, type, header, payload);
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

}  // namespace

Result<BoundChannel> bind_zmq_channel(const std::string& endpoint, std::uint64_t max_message_bytes) {
  auto channel = std::make_unique<ZmqWorkerChannel>();
  FL_ASSIGN_OR_RETURN(auto bound, channel->bind(endpoint, max_message_bytes));
  return BoundChannel{std::move(channel), std::move(bound)};
}

}  // namespace fl::coordinator
