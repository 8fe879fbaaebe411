// Reading a listen address: kept apart from the server so the job config (and its fuzzer) can
// check one without linking an HTTP library.
#include <charconv>

#include "fl/ledger/http_server.hpp"

namespace fl::ledger {

Result<ListenAddress> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, "listen address '" + std::string(text) +
                                                       "' is not HOST:PORT (e.g. 127.0.0.1:8080)");
  }
  ListenAddress a;
  a.host = colon == 0 ? "127.0.0.1" : std::string(text.substr(0, colon));  // ":8080": loopback
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
    a.host = a.host.substr(1, a.host.size() - 2);
  const auto port = text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (ec != std::errc() || end != port.data() + port.size() || a.port < 0 || a.port > 65535) {
    return make_error(ErrorCode::kInvalidArgument, "listen address '" + std::string(text) +
                                                       "': port must be a number from 0 to 65535");
  }
  return a;
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace fl::ledger
