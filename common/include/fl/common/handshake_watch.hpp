// Watches a client socket's CURVE handshakes (through a ZeroMQ socket monitor) so that a
// coordinator that cannot prove the pinned key, or refuses this client's key, ends the client
// with a clear message instead of silent retries, and tells since when the connection has been
// down (the client then moves to the job's next coordinator). fl-worker's session and an edge
// coordinator's link to the job's owner use it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

class HandshakeWatch {
 public:
  // Monitors `socket` (call before it connects).
  HandshakeWatch(zmq::context_t& context, zmq::socket_t& socket);
  // Reads the events so far: kBadSignature once the coordinator refused this worker's key, or
  // after kMaxFailures handshakes failed without one succeeding.
  Status check(const std::string& endpoint, const PublicKey& pinned,
               const PublicKey& own);
  bool authenticated() const { return succeeded_; }
  // Since when the connection has been down (as of the last check()); nullopt while it is up or
  // before it first came up.
  std::optional<std::chrono::steady_clock::time_point> down_since() const { return down_since_; }

  static constexpr int kMaxFailures = 4;

 private:
  zmq::socket_t monitor_;
  bool succeeded_ = false;
  bool handshaking_ = false;
  int failures_ = 0;
  bool refused_ = false;
  std::optional<std::chrono::steady_clock::time_point> down_since_;
};

}  // namespace fl::common
