#include "fl/common/handshake_watch.hpp"

#include <atomic>
#include <cstring>

namespace fl::common {

namespace {
std::string next_monitor_endpoint() {
  static std::atomic<int> counter{0};
  return "inproc://fl-handshake-" + std::to_string(counter++);
}
}  // namespace

HandshakeWatch::HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket)
    : monitor_(context, zmq::socket_type::pair) {
  const auto endpoint = next_monitor_endpoint();
  zmq_socket_monitor(socket.handle(), endpoint.c_str(),
                     ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(endpoint);
}

Status HandshakeWatch::check(const std::string& endpoint, const PublicKey& pinned,
                             const PublicKey& own) {
  while (true) {
    zmq::message_t event, address;
    if (!monitor_.recv(event, zmq::recv_flags::dontwait)) break;
    if (event.more()) (void)monitor_.recv(address);
    if (event.size() < 6) continue;
    std::uint16_t id = 0;
    std::memcpy(&id, event.data(), 2);
    if (id == ZMQ_EVENT_CONNECTED) {
      handshaking_ = true;
    } else if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      succeeded_ = true;
      handshaking_ = false;
      failures_ = 0;
      down_since_.reset();
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      refused_ = true;
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
      if (succeeded_ && !handshaking_ && !down_since_) down_since_ = std::chrono::steady_clock::now();
      if (handshaking_) ++failures_;
      handshaking_ = false;
    }
  }
  if (refused_) {
    return make_error(
        ErrorCode::kBadSignature,
        "the coordinator at " + endpoint + " refused this key " + short_id(own) +
            " during the handshake: the key is not enrolled for this job (send it to the "
            "researcher: fl-worker keygen printed it)");
  }
  if (!succeeded_ && failures_ >= kMaxFailures) {
    return make_error(
        ErrorCode::kBadSignature,
        "the coordinator at " + endpoint + " did not prove it holds the pinned key " +
            short_id(pinned) + ": " + std::to_string(failures_) +
            " CURVE handshakes failed. It holds another key (an impostor, or the wrong key was "
            "pinned: check --job-card / --coordinator-key), speaks plaintext, or refuses "
            "connections from this address");
  }
  return ok_status();
}

}  // namespace fl::common
