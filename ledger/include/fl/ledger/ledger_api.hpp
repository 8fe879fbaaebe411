// The ledger over HTTP, read-only: GET /api/ledger/{blocks, blocks/H, accounts, rounds, rounds/N,
// tx/ID, verify} as JSON (json.hpp), answered from a read-only snapshot of the database that is
// reloaded only when the database files change. `fl-ledger serve` and the coordinator's HTTP
// server both mount it.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>

#include "fl/ledger/http_server.hpp"
#include "fl/ledger/ledger.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {

class LedgerApi {
 public:
  explicit LedgerApi(std::filesystem::path db) : db_(std::move(db)) {}

  // Any path under /api/ledger/. Thread-safe.
  HttpReply get(const HttpRequest& request);
  // The latest snapshot (reloaded if the files changed); an error when the database cannot be read.
  Result<std::shared_ptr<const Chain>> chain();
  // verify_ledger, run again only when the chain's head moved.
  Result<VerifyReport> verify();
  HttpRoute route();  // "/api/ledger/" -> get()

 private:
  std::filesystem::path db_;
  std::mutex mutex_;
  std::string loaded_stamp_;
  std::shared_ptr<const Chain> chain_;
  std::string verified_stamp_;
  std::optional<VerifyReport> report_;
};

// `fl-ledger serve`: the ledger API and the dashboard on `listen` until SIGINT or SIGTERM.
// A token is required when `listen` is not a loopback address (see bearer_token_for; a
// generated one is written beside the database as http.token).
int command_serve(const std::filesystem::path& db, const std::string& listen,
                  const std::string& token, std::ostream& out, std::ostream& err);

}  // namespace fl::ledger
