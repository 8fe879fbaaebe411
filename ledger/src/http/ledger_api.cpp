#include "fl/ledger/ledger_api.hpp"

#include <charconv>

#include "fl/ledger/json.hpp"

namespace fl::ledger {

namespace {

using nlohmann::json;

// Changes whenever SQLite writes the database or its write-ahead log.
std::string files_stamp(const std::filesystem::path& db) {
  std::string stamp;
  for (const auto& p : {db, std::filesystem::path(db.string() + "-wal")}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    if (ec) continue;
    const auto time = std::filesystem::last_write_time(p, ec).time_since_epoch().count();
    stamp += std::to_string(size) + "@" + std::to_string(time) + ";";
  }
  return stamp;
}

std::optional<std::uint64_t> number_in(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

HttpReply json_reply(const json& j) { return {200, "application/json", j.dump()}; }

json block_with_txs(const Chain& chain, const Block& b) {
  json j = block_json(b);
  json txs = json::array();
  for (const auto& t : chain.txs) {
    if (t.height != b.header.height) continue;
    json tj = tx_json(t);
    if (auto proof = proof_for(chain, t); proof.ok()) tj["proof"] = proof_json(*proof);
    txs.push_back(std::move(tj));
  }
  j["transactions"] = std::move(txs);
  return j;
}

HttpReply answer(const Chain& chain, std::string_view what, const HttpRequest& request) {
  if (what == "blocks") {
    // Newest first; ?limit=N (default all).
    std::size_t limit = chain.blocks.size();
    if (auto it = request.params.find("limit"); it != request.params.end()) {
      if (auto n = number_in(it->second)) limit = std::min<std::size_t>(limit, *n);
    }
    json arr = json::array();
    for (auto it = chain.blocks.rbegin(); it != chain.blocks.rend() && arr.size() < limit; ++it) {
      arr.push_back(block_json(*it));
    }
    return json_reply(json{{"height", chain.blocks.empty() ? 0 : chain.blocks.back().header.height},
                           {"blocks", arr}});
  }
  if (what.starts_with("blocks/")) {
    const auto h = number_in(what.substr(7));
    for (const auto& b : chain.blocks) {
      if (h && b.header.height == *h) return json_reply(block_with_txs(chain, b));
    }
    return http_error(404, "no block at height " + std::string(what.substr(7)));
  }
  if (what == "accounts") {
    json arr = json::array();
    for (const auto& [key, a] : chain.state.accounts())
      arr.push_back(account_json(key, a, chain.state.authority()));
    return json_reply(arr);
  }
  if (what == "rounds" || what.starts_with("rounds/")) {
    const auto job = request.params.count("job") ? request.params.at("job") : std::string();
    std::optional<std::uint64_t> only;
    if (what != "rounds") {
      only = number_in(what.substr(7));
      if (!only) return http_error(400, "round number expected after /api/ledger/rounds/");
    }
    json arr = json::array();
    for (const auto& r : rounds_of(chain, job)) {
      if (!only || r.round == *only) arr.push_back(round_json(r));
    }
    if (only && arr.empty())
      return http_error(404, "no round " + std::to_string(*only) + " on the ledger");
    return json_reply(arr);
  }
  if (what.starts_with("tx/")) {
    auto tx = find_tx(chain, what.substr(3));
    if (!tx.ok()) return http_error(404, tx.error().message);
    json j = tx_json(**tx);
    if (auto proof = proof_for(chain, **tx); proof.ok()) j["proof"] = proof_json(*proof);
    return json_reply(j);
  }
  return http_error(404, "unknown ledger page /api/ledger/" + std::string(what) +
                             " (blocks, blocks/H, accounts, rounds, rounds/N, tx/ID, verify)");
}

}  // namespace

Result<std::shared_ptr<const Chain>> LedgerApi::chain() {
  std::lock_guard lock(mutex_);
  const auto stamp = files_stamp(db_);
  if (chain_ && stamp == loaded_stamp_) return chain_;
  if (stamp.empty())
    return make_error(ErrorCode::kNotFound, "no ledger at " + db_.string() + " (yet)");
  FL_ASSIGN_OR_RETURN(auto loaded, load_chain(db_));
  chain_ = std::make_shared<const Chain>(std::move(loaded));
  loaded_stamp_ = stamp;
  return chain_;
}

Result<VerifyReport> LedgerApi::verify() {
  FL_ASSIGN_OR_RETURN(auto c, chain());
  const std::string head = c->blocks.empty() ? "empty" : common::to_hex(c->blocks.back().hash);
  std::lock_guard lock(mutex_);
  if (report_ && verified_stamp_ == head) return *report_;
  FL_ASSIGN_OR_RETURN(auto report, verify_ledger(db_));
  report_ = report;
  verified_stamp_ = head;
  return report;
}

HttpReply LedgerApi::get(const HttpRequest& request) {
  constexpr std::string_view kPrefix = "/api/ledger/";
  std::string_view what = request.path;
  if (!what.starts_with(kPrefix)) return http_error(404, "not a ledger page: " + request.path);
  what.remove_prefix(kPrefix.size());
  if (what == "verify") {
    auto report = verify();
    if (!report.ok()) return http_error(503, report.error().message);
    return json_reply(verify_json(*report));
  }
  auto c = chain();
  if (!c.ok()) return http_error(503, c.error().message);
  return answer(**c, what, request);
}

HttpRoute LedgerApi::route() {
  return {"/api/ledger/", [this](const HttpRequest& r) { return get(r); }};
}

}  // namespace fl::ledger
