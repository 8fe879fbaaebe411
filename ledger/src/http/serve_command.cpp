#include <csignal>
#include <ostream>
#include <thread>

#include "fl/ledger/ledger_api.hpp"

namespace fl::ledger {

namespace {
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }
}  // namespace

int command_serve(const std::filesystem::path& db, const std::string& listen,
                  const std::string& token, std::ostream& out, std::ostream& err) {
  if (!std::filesystem::exists(db)) {
    err << "fl-ledger serve: no ledger at " << db.string()
        << " (pass the run folder's ledger.db with --db)\n";
    return 1;
  }
  auto address = parse_listen(listen);
  if (!address.ok()) {
    err << "fl-ledger serve: --listen: " << address.error().message << '\n';
    return 1;
  }
  const auto token_file = std::filesystem::absolute(db).parent_path() / "http.token";
  auto bearer = bearer_token_for(*address, token, token_file);
  if (!bearer.ok()) {
    err << "fl-ledger serve: " << bearer.error().message << '\n';
    return 1;
  }
  LedgerApi api(db);
  auto server = HttpServer::start(*address, *bearer, {api.route()});
  if (!server.ok()) {
    err << "fl-ledger serve: " << server.error().message << '\n';
    return 1;
  }
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  out << "serving " << db.string() << " on " << (*server)->url();
  if (!bearer->empty())
    out << " (bearer token " << (token.empty() ? "in " + token_file.string() : "as given") << ")";
  out << "; Ctrl-C stops" << std::endl;
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  out << "stopped" << std::endl;
  return 0;
}

}  // namespace fl::ledger
