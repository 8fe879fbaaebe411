// The coordinator's door keeper for the worker socket, on its own thread: the ZAP handler that
// admits a CURVE client only when the enrolment policy allows its key, and the connection table
// (from the socket's monitor) that limits connections per source address and in total and
// drops connections that have not registered in time. Private to fl_coordinator.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::coordinator {

struct GateSettings {
  bool curve = true;
  bool open_enrolment = false;
  std::set<common::CurvePublicKey> allowed;  // X25519 forms of the allowed worker keys
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_address = 64;
  std::chrono::milliseconds register_timeout{10000};
};

class ConnectionGate {
 public:
  // Binds the ZAP endpoint (CURVE only) and connects to the router's monitor endpoint, both in
  // `context`; call before the router binds.
  static Result<std::unique_ptr<ConnectionGate>> start(zmq::context_t& context,
                                                       const std::string& monitor_endpoint,
                                                       GateSettings settings);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // The connection on descriptor `fd` registered: it is no longer timed out.
  void mark_registered(int fd);

 private:
  struct Connection {
    std::string address;  // "ip:port" of the peer
    std::string ip;
    std::chrono::steady_clock::time_point accepted_at;
    bool registered = false;
  };
  ConnectionGate(GateSettings settings, zmq::socket_t zap, zmq::socket_t monitor);
  void loop();
  void answer_zap();
  void read_monitor_event();
  void on_accepted(int fd);
  void drop_unregistered();
  void log_refusals();

  GateSettings settings_;
  zmq::socket_t zap_;
  zmq::socket_t monitor_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;  // guards connections_ (mark_registered comes from the engine's thread)
  std::map<int, Connection> connections_;
  std::map<std::string, std::size_t> per_ip_;
  std::map<std::string, std::size_t> refused_;  // since the last log line, by reason
  std::chrono::steady_clock::time_point last_log_{};
  std::thread thread_;
};

// Raises the soft descriptor limit to the hard one and returns the new soft limit.
std::size_t raise_descriptor_limit();

}  // namespace fl::coordinator
