#include "fl/ledger/http_server.hpp"

#include <httplib.h>
#include <sodium.h>
#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "fl/common/crypto.hpp"

namespace fl::ledger {

HttpReply http_error(int status, std::string_view message) {
  return {status, "application/json", nlohmann::json{{"error", message}}.dump()};
}

Result<std::string> bearer_token_for(const ListenAddress& address, const std::string& configured,
                                     const std::filesystem::path& token_file) {
  if (!configured.empty() || is_loopback(address.host)) return configured;
  unsigned char bytes[24];
  randombytes_buf(bytes, sizeof bytes);
  std::string token = common::to_hex(std::span<const unsigned char>(bytes, sizeof bytes));
  std::error_code ec;
  std::filesystem::create_directories(token_file.parent_path(), ec);
  std::filesystem::remove(token_file, ec);
  {
    std::ofstream out(token_file);
    if (!out)
      return make_error(ErrorCode::kIo, "cannot write the HTTP token to " + token_file.string());
    chmod(token_file.c_str(), 0600);  // before the token goes in
    out << token << '\n';
    if (!out)
      return make_error(ErrorCode::kIo, "cannot write the HTTP token to " + token_file.string());
  }
  return token;
}

struct HttpServer::State {
  httplib::Server server;
  std::string host;
  int port = 0;
  std::string token;
  std::vector<HttpRoute> routes;
  std::thread thread;

  bool authorized(const httplib::Request& req) const {
    if (token.empty()) return true;
    std::string given = req.get_header_value("Authorization");
    if (given.starts_with("Bearer ")) {
      given = given.substr(7);
    } else if (req.has_param("token")) {
      given = req.get_param_value("token");
    }
    return given.size() == token.size() &&
           sodium_memcmp(given.data(), token.data(), token.size()) == 0;
  }

  HttpReply answer(const httplib::Request& req) const {
    if (const auto* file = dashboard_file(req.path)) {
      return {200, std::string(file->content_type), std::string(file->body)};
    }
    const HttpRoute* best = nullptr;
    for (const auto& r : routes) {
      if (req.path.starts_with(r.prefix) && (!best || r.prefix.size() > best->prefix.size()))
        best = &r;
    }
    if (!best) return http_error(404, "no such page: " + req.path);
    if (!authorized(req))
      return http_error(401, "this server needs the bearer token (Authorization: Bearer ...)");
    HttpRequest request{req.path, {}};
    for (const auto& [k, v] : req.params) request.params[k] = v;
    try {
      return best->handler(request);
    } catch (const std::exception& e) {  // a handler bug must not take the server down
      return http_error(500, std::string("internal error: ") + e.what());
    }
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ListenAddress& address,
                                                      std::string token,
                                                      std::vector<HttpRoute> routes) {
  auto s = std::make_unique<State>();
  s->host = address.host;
  s->token = std::move(token);
  s->routes = std::move(routes);
  auto* state = s.get();
  // httplib's default adds SO_REUSEPORT, which would let a second server share a taken port.
  s->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s->server.Get(".*", [state](const httplib::Request& req, httplib::Response& res) {
    const HttpReply reply = state->answer(req);
    res.status = reply.status;
    res.set_header("Cache-Control", "no-store");
    if (reply.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(reply.body, reply.content_type.c_str());
  });
  const std::string where = address.host + ":" + std::to_string(address.port);
  if (address.port == 0) {
    s->port = s->server.bind_to_any_port(address.host);
  } else {
    s->port = s->server.bind_to_port(address.host, address.port) ? address.port : -1;
  }
  if (s->port <= 0) {
    return make_error(ErrorCode::kUnavailable,
                      "cannot listen for HTTP on " + where +
                          " (address in use or not on this machine?); change [http] "
                          "listen or --listen");
  }
  s->thread = std::thread([state] { state->server.listen_after_bind(); });
  // stop() before the loop runs would be lost, and the destructor would wait forever.
  for (int i = 0; i < 2500 && !s->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(s)));
}

HttpServer::HttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

HttpServer::~HttpServer() {
  state_->server.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

int HttpServer::port() const { return state_->port; }

std::string HttpServer::url() const {
  const bool v6 = state_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + state_->host + "]" : state_->host) + ":" +
         std::to_string(state_->port) + "/";
}

}  // namespace fl::ledger
