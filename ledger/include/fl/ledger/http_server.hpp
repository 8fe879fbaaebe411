// A small read-only HTTP server for the ledger API, the coordinator's metrics and the dashboard
// page: GET only, its own thread, bound to the address it is given, and a bearer token on every
// /api and /metrics request when one is set. The dashboard files are compiled into the binary.
// It lives beside the ledger because `fl-ledger serve` is its lowest user; the coordinator adds
// its own routes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::ledger {

struct HttpRequest {
  std::string path;                           // e.g. "/api/ledger/rounds/3"
  std::map<std::string, std::string> params;  // query string
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};
// {"error": message} with `status`.
HttpReply http_error(int status, std::string_view message);

// A handler answers every GET whose path starts with `prefix` (the longest prefix wins).
struct HttpRoute {
  std::string prefix;
  std::function<HttpReply(const HttpRequest&)> handler;
};

struct ListenAddress {
  std::string host;
  int port = 0;  // 0: any free port
};
// "HOST:PORT" (IPv4 address, [IPv6] or name; port 0 to 65535); ":PORT" is 127.0.0.1:PORT.
// kInvalidArgument naming the problem.
Result<ListenAddress> parse_listen(std::string_view text);
// 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(std::string_view host);

// The bearer token a server on `address` requires: `configured` when set; otherwise none on a
// loopback address, and on any other address a fresh random token written to `token_file`
// (mode 0600) so its owner can read it.
Result<std::string> bearer_token_for(const ListenAddress& address, const std::string& configured,
                                     const std::filesystem::path& token_file);

class HttpServer {
 public:
  // Binds `address` and serves `routes` and the dashboard (/, /dashboard.js, /dashboard.css)
  // on its own thread until destroyed. `token` empty: no token required.
  static Result<std::unique_ptr<HttpServer>> start(const ListenAddress& address, std::string token,
                                                   std::vector<HttpRoute> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  std::string url() const;  // "http://HOST:PORT/"

 private:
  struct State;
  explicit HttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The dashboard files compiled into the binary, by path ("/" is index.html); nullptr if none.
struct EmbeddedFile {
  std::string_view content_type;
  std::string_view body;
};
const EmbeddedFile* dashboard_file(std::string_view path);

}  // namespace fl::ledger
