// The coordinator's side of the wire, played by a test: a ROUTER socket on 127.0.0.1 that
// waits for one kind of message from the worker and answers it, so worker tests need no
// fl-coordinator process.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "fl/common/zmq_channel.hpp"

namespace fl::test {

class FakeCoordinator {
 public:
  FakeCoordinator() : socket_(context_, zmq::socket_type::router) {
    socket_.set(zmq::sockopt::linger, 0);
    endpoint_ = common::bind_socket(socket_, "tcp://127.0.0.1:0").value();
  }
  const std::string& endpoint() const { return endpoint_; }

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

 private:
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
