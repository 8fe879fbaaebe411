#include "connection_gate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "fl/common/zmq_channel.hpp"

namespace fl::coordinator {

namespace {

constexpr auto kLogEvery = std::chrono::seconds(5);

struct PeerAddress {
  std::string ip;
  std::string address;  // ip:port
};

std::optional<PeerAddress> peer_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  unsigned port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  } else {
    return PeerAddress{"local", "local"};  // ipc:// peers share one address
  }
  return PeerAddress{text, std::string(text) + ":" + std::to_string(port)};
}


}  // namespace

std::size_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const auto before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  spdlog::info("file descriptors: limit {} (was {}, hard limit {})", limit.rlim_cur, before,
               limit.rlim_max);
  return static_cast<std::size_t>(limit.rlim_cur);
}

Result<std::unique_ptr<ConnectionGate>> ConnectionGate::start(zmq::context_t& context,
                                                              const std::string& monitor_endpoint,
                                                              GateSettings settings) {
  try {
    zmq::socket_t zap(context, zmq::socket_type::rep);
    zap.set(zmq::sockopt::linger, 0);
    if (settings.curve) zap.bind(common::kZapEndpoint);
    zmq::socket_t monitor(context, zmq::socket_type::pair);
    monitor.set(zmq::sockopt::linger, 0);
    monitor.connect(monitor_endpoint);
    return std::unique_ptr<ConnectionGate>(
        new ConnectionGate(std::move(settings), std::move(zap), std::move(monitor)));
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("cannot start the connection gate: ") + e.what());
  }
}

ConnectionGate::ConnectionGate(GateSettings settings, zmq::socket_t zap, zmq::socket_t monitor)
    : settings_(std::move(settings)), zap_(std::move(zap)), monitor_(std::move(monitor)) {
  thread_ = std::thread([this] { loop(); });
}

ConnectionGate::~ConnectionGate() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ConnectionGate::mark_registered(int fd) {
  std::lock_guard lock(mutex_);
  if (auto it = connections_.find(fd); it != connections_.end()) it->second.registered = true;
}

void ConnectionGate::loop() {
  std::vector<zmq::pollitem_t> items = {{zap_.handle(), 0, ZMQ_POLLIN, 0},
                                        {monitor_.handle(), 0, ZMQ_POLLIN, 0}};
  while (!stop_) {
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
      if (items[0].revents & ZMQ_POLLIN) answer_zap();
      while (monitor_.get(zmq::sockopt::events) & ZMQ_POLLIN) read_monitor_event();
      drop_unregistered();
      log_refusals();
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::warn("connection gate: {}", e.what());  // never lets an exception leave the thread
    } catch (const std::exception& e) {
      spdlog::warn("connection gate: {}", e.what());
    }
  }
}

// ZAP (RFC 27): [version][request id][domain][address][identity][mechanism][credentials...];
// the answer's user id is the client's X25519 key in hex, read back as the message property
// "User-Id" on every message of that connection.
void ConnectionGate::answer_zap() {
  const auto refused = common::answer_zap_request(zap_, [this](const common::CurvePublicKey& key) {
    return settings_.open_enrolment || settings_.allowed.count(key) ? std::string() : std::string("key not enrolled");
  });
  if (refused && *refused == "key not enrolled") {
    std::lock_guard lock(mutex_);
    ++refused_["key not on the allow-list"];
  }
}

void ConnectionGate::read_monitor_event() {
  zmq::message_t event, address;
  if (!monitor_.recv(event, zmq::recv_flags::dontwait)) return;
  if (event.more()) (void)monitor_.recv(address);
  if (event.size() < 6) return;
  std::uint16_t id = 0;
  std::uint32_t value = 0;
  std::memcpy(&id, event.data(), 2);
  std::memcpy(&value, static_cast<const char*>(event.data()) + 2, 4);
  const int fd = static_cast<int>(value);
  if (id == ZMQ_EVENT_ACCEPTED) {
    on_accepted(fd);
  } else if (id == ZMQ_EVENT_DISCONNECTED || id == ZMQ_EVENT_CLOSED) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    if (--per_ip_[it->second.ip] == 0) per_ip_.erase(it->second.ip);
    connections_.erase(it);
  }
}

// Over a limit the connection is shut down (libzmq then closes it): descriptors are never held
// by peers beyond the limits.
void ConnectionGate::on_accepted(int fd) {
  auto peer = peer_address(fd);
  std::lock_guard lock(mutex_);
  if (!peer) return;
  const char* refusal = nullptr;
  if (connections_.size() >= settings_.max_connections)
    refusal = "total connection limit";
  else if (per_ip_[peer->ip] >= settings_.max_connections_per_address)
    refusal = "per-address connection limit";
  if (refusal) {
    if (per_ip_[peer->ip] == 0) per_ip_.erase(peer->ip);
    ++refused_[std::string(refusal) + " (" + peer->ip + ")"];
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  ++per_ip_[peer->ip];
  connections_[fd] = Connection{peer->address, peer->ip, std::chrono::steady_clock::now(), false};
}

void ConnectionGate::drop_unregistered() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  for (auto& [fd, c] : connections_) {
    if (c.registered || now - c.accepted_at < settings_.register_timeout) continue;
    // The descriptor is still this peer's (not reused since): only then shut it down.
    auto peer = peer_address(fd);
    if (peer && peer->address == c.address) {
      ::shutdown(fd, SHUT_RDWR);
      ++refused_["no registration in time"];
    }
    c.registered = true;  // handled once; the monitor's disconnect event removes it
  }
}

void ConnectionGate::log_refusals() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (refused_.empty() || now - last_log_ < kLogEvery) return;
  std::string summary;
  for (const auto& [why, n] : refused_)
    summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + why;
  spdlog::warn("connections refused or dropped: {} ({} connected)", summary, connections_.size());
  refused_.clear();
  last_log_ = now;
}

}  // namespace fl::coordinator
