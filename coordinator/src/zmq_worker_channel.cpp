// WorkerChannel over a ZeroMQ ROUTER socket: [identity][type][header][payload?]. The frames are
// kept as zmq::message_t behind SharedBytes, so payloads are read in place. CURVE, the ZAP
// policy and the connection limits are set up here (see ConnectionGate).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <zmq.hpp>

#include "connection_gate.hpp"
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
  std::span<const std::uint8_t> view(static_cast<const std::uint8_t*>(owned->data()),
                                     owned->size());
  return {std::move(owned), view};
}

// The routing id's descriptor (ZMQ_SRCFD) and authenticated key ("User-Id") of a message.
int source_fd(zmq::message_t& frame) { return zmq_msg_get(frame.handle(), ZMQ_SRCFD); }

std::optional<common::CurvePublicKey> user_id(zmq::message_t& frame) {
  const char* text = zmq_msg_gets(frame.handle(), "User-Id");
  if (!text || !*text) return std::nullopt;
  auto key = common::fixed_from_hex<32>(text, "User-Id");
  if (!key.ok()) return std::nullopt;
  return *key;
}

class ZmqWorkerChannel final : public WorkerChannel {
 public:
  ZmqWorkerChannel() : socket_(context_, zmq::socket_type::router) {}
  ~ZmqWorkerChannel() override {
    gate_.reset();  // its thread uses sockets of this context
    socket_.close();
  }

  Result<std::string> bind(const ChannelOptions& o, std::size_t max_connections) {
    GateSettings gate;
    gate.curve = !o.plaintext;
    gate.open_enrolment = o.open_enrolment;
    for (const auto& k : o.allowed_workers) {
      FL_ASSIGN_OR_RETURN(auto curve, common::curve_public_key(k));
      gate.allowed.insert(curve);
    }
    gate.max_connections = max_connections;
    gate.max_connections_per_address = o.max_connections_per_address;
    gate.register_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(o.register_timeout_s * 1000));
    try {
      socket_.set(zmq::sockopt::linger, 0);
      socket_.set(zmq::sockopt::router_mandatory, 1);
      socket_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(o.max_message_bytes));
      socket_.set(zmq::sockopt::sndhwm, 0);
      socket_.set(zmq::sockopt::handshake_ivl, static_cast<int>(gate.register_timeout.count()));
      if (!o.plaintext) {
        FL_RETURN_IF_ERROR(common::set_curve_server(socket_, *o.server_key));
        socket_.set(zmq::sockopt::zap_domain, "fedledger");
      }
      const std::string monitor = "inproc://fl-worker-channel-monitor";
      if (zmq_socket_monitor(socket_.handle(), monitor.c_str(),
                             ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED) != 0) {
        return make_error(ErrorCode::kIo, std::string("cannot monitor the ROUTER socket: ") +
                                              zmq_strerror(zmq_errno()));
      }
      FL_ASSIGN_OR_RETURN(gate_, ConnectionGate::start(context_, monitor, std::move(gate)));
    } catch (const zmq::error_t& e) {
      return make_error(ErrorCode::kIo,
                        std::string("cannot set up the ROUTER socket: ") + e.what());
    }
    return common::bind_socket(socket_, o.endpoint);
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
    remember_source(env.identity, source_fd(env.header));
    auto authenticated = user_id(env.header);
    out.message = InboundMessage{std::move(env.identity), env.type, hold(std::move(env.header)),
                                 env.payload.size() ? hold(std::move(env.payload)) : SharedBytes{},
                                 address ? address : "", authenticated};
    return out;
  }

  Status send(const PeerId& peer, common::MessageType type, std::string_view header,
              std::span<const std::uint8_t> payload) override {
    return common::send_message(socket_, common::SocketRole::kRouter, peer, type, header, payload);
  }

  void mark_registered(const PeerId& peer) override {
    auto it = source_fd_.find(peer);
    if (it != source_fd_.end() && gate_) gate_->mark_registered(it->second);
  }

 private:
  void remember_source(const PeerId& peer, int fd) {
    if (fd < 0) return;
    if (source_fd_.size() > kMaxRemembered) source_fd_.clear();  // stale entries of gone peers
    source_fd_[peer] = fd;
  }

  static constexpr std::size_t kMaxRemembered = 1 << 16;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::unique_ptr<ConnectionGate> gate_;
  std::map<PeerId, int> source_fd_;  // the engine's thread only
};

}  // namespace

Result<BoundChannel> bind_zmq_channel(const ChannelOptions& options) {
  if (!options.plaintext && !options.server_key) {
    return make_error(ErrorCode::kInvalidArgument, "a CURVE channel needs the coordinator's key");
  }
  // Refuse new peers well before descriptors run out: a quarter and 64 more stay for files,
  // the ledger and ZeroMQ's own.
  const std::size_t descriptors = raise_descriptor_limit();
  const std::size_t headroom = descriptors / 4 + 64;
  const std::size_t fit = descriptors > headroom ? descriptors - headroom : 1;
  const std::size_t max_connections = std::min(options.max_connections, fit);
  if (options.plaintext) {
    spdlog::warn(
        "RESEARCH MODE: network.plaintext = true; worker connections are neither "
        "encrypted nor authenticated (for a local experiment only)");
  }
  auto channel = std::make_unique<ZmqWorkerChannel>();
  FL_ASSIGN_OR_RETURN(auto bound, channel->bind(options, max_connections));
  spdlog::info(
      "worker channel {}: {}, at most {} connections ({} per address); connections that "
      "do not register are dropped after {} s",
      bound, options.plaintext ? "plaintext" : "CURVE", max_connections,
      options.max_connections_per_address, options.register_timeout_s);
  return BoundChannel{std::move(channel), std::move(bound), max_connections};
}

}  // namespace fl::coordinator
