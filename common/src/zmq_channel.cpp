#include "fl/common/zmq_channel.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace fl::common {

Status send_message(zmq::socket_t& socket, SocketRole role, std::string_view identity,
                    MessageType type, std::string_view header, std::span<const std::uint8_t> payload) {
  try {
    const bool has_payload = !payload.empty();
    if (role == SocketRole::kRouter) {
      if (!socket.send(zmq::buffer(identity.data(), identity.size()),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return make_error(ErrorCode::kUnavailable, "peer cannot take messages now");
      }
    }
    const auto type_byte = static_cast<std::uint8_t>(type);
    socket.send(zmq::buffer(&type_byte, 1), zmq::send_flags::sndmore);
    socket.send(zmq::buffer(header.data(), header.size()),
                has_payload ? zmq::send_flags::sndmore : zmq::send_flags::none);
    if (has_payload) socket.send(zmq::buffer(payload.data(), payload.size()), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    // ROUTER_MANDATORY reports an unknown peer as EHOSTUNREACH.
    return make_error(ErrorCode::kUnavailable, std::string("send failed: ") + e.what());
  }
  return ok_status();
}

Result<std::optional<Envelope>> receive_message(zmq::socket_t& socket, SocketRole role,
                                                std::chrono::milliseconds timeout,
                                                std::string* bad_identity) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, timeout) == 0) return std::optional<Envelope>{};
    std::vector<zmq::message_t> frames;
    do {
      zmq::message_t frame;
      if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
      if (frames.size() < 8) frames.push_back(std::move(frame));  // drain the rest
    } while (socket.get(zmq::sockopt::rcvmore));

    std::size_t first = 0;
    Envelope env;
    if (role == SocketRole::kRouter) {
      if (frames.empty()) return make_error(ErrorCode::kProtocol, "empty message");
      env.identity = frames[0].to_string();
      if (bad_identity) *bad_identity = env.identity;
      first = 1;
    }
    const std::size_t parts = frames.size() - first;
    if (parts < 2 || parts > 3) {
      return make_error(ErrorCode::kProtocol,
                        "expected [type][header][payload?], got " + std::to_string(parts) + " frames");
    }
    auto type = parse_message_type(
        {static_cast<const std::uint8_t*>(frames[first].data()), frames[first].size()});
    if (!type.ok()) return type.error();
    env.type = *type;
    env.header = std::move(frames[first + 1]);
    if (parts == 3) env.payload = std::move(frames[first + 2]);
    return std::optional<Envelope>(std::move(env));
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("receive failed: ") + e.what());
  }
}

Status set_curve_client(zmq::socket_t& socket, const KeyPair& own, const PublicKey& server) {
  FL_ASSIGN_OR_RETURN(auto server_curve, curve_public_key(server));
  const auto mine = curve_key_pair(own);
  try {
    socket.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server_curve.data(), server_curve.size()));
    socket.set(zmq::sockopt::curve_publickey, zmq::const_buffer(mine.public_key.data(), mine.public_key.size()));
    socket.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(mine.secret_key.data(), mine.secret_key.size()));
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("cannot set up CURVE: ") + e.what() +
                                          " (is libzmq built with libsodium?)");
  }
  return ok_status();
}

Status set_curve_server(zmq::socket_t& socket, const KeyPair& own) {
  const auto mine = curve_key_pair(own);
  try {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(mine.secret_key.data(), mine.secret_key.size()));
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("cannot set up CURVE: ") + e.what());
  }
  return ok_status();
}

std::uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

Status check_endpoint(std::string_view endpoint) {
  const auto malformed = [&](const std::string& problem) {
    return make_error(ErrorCode::kInvalidArgument,
                      "endpoint '" + std::string(endpoint) + "': " + problem +
                          "; expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5555");
  };
  if (endpoint.starts_with("ipc://")) {
    return endpoint.size() > 6 ? ok_status() : malformed("no path after ipc://");
  }
  if (!endpoint.starts_with("tcp://")) {
    const auto scheme = endpoint.find("://");
    return malformed(scheme == std::string_view::npos
                         ? "no tcp:// in front"
                         : "unsupported transport '" + std::string(endpoint.substr(0, scheme)) + "'");
  }
  const std::string_view rest = endpoint.substr(6);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) return malformed("no :PORT");
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port = rest.substr(colon + 1);
  const bool bracketed = host.starts_with('[') && host.ends_with(']') && host.size() > 2;
  if (host.empty() || (!bracketed && host.find_first_of(":/[] \t") != std::string_view::npos)) {
    return malformed("bad host '" + std::string(host) + "'");
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(port)) > 65535) {
    return malformed("bad port '" + std::string(port) + "'");
  }
  return ok_status();
}

Result<std::string> bind_socket(zmq::socket_t& socket, const std::string& endpoint) {
  try {
    socket.bind(endpoint);
    return socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, "cannot bind " + endpoint + ": " + e.what());
  }
}

std::optional<std::string> answer_zap_request(zmq::socket_t& zap,
                                              const std::function<std::string(const CurvePublicKey&)>& refusal) {
  std::vector<zmq::message_t> frames;
  do {
    zmq::message_t frame;
    if (!zap.recv(frame, zmq::recv_flags::dontwait)) break;
    frames.push_back(std::move(frame));
  } while (zap.get(zmq::sockopt::rcvmore));
  if (frames.empty()) return std::nullopt;
  frames.resize(std::max<std::size_t>(frames.size(), 2));  // REP must answer every request
  // Frames: version, request id, domain, address, identity, mechanism, credentials.
  std::string code = "400", text = "malformed ZAP request", user;
  if (frames.size() >= 7 && frames[5].to_string() == "CURVE" && frames[6].size() == 32) {
    CurvePublicKey key{};
    std::memcpy(key.data(), frames[6].data(), key.size());
    text = refusal(key);
    if (text.empty()) {
      code = "200";
      text = "OK";
      user = to_hex(key);
    }
  }
  const std::string version = "1.0";
  zap.send(zmq::buffer(version), zmq::send_flags::sndmore);
  zap.send(frames[1], zmq::send_flags::sndmore);
  zap.send(zmq::buffer(code), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(text), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(user), zmq::send_flags::sndmore);
  zap.send(zmq::str_buffer(""), zmq::send_flags::none);
  if (code == "200") return std::nullopt;
  return text;
}

}  // namespace fl::common
