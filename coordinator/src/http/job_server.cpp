#include "fl/coordinator/http/job_server.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fl/coordinator/http/prometheus.hpp"
#include "fl/ledger/http_server.hpp"
#include "fl/ledger/ledger_api.hpp"

namespace fl::coordinator {

namespace {

using ledger::HttpReply;
using ledger::HttpRequest;
using nlohmann::json;

HttpReply json_reply(const json& j) { return {200, "application/json", j.dump()}; }

LedgerFigures figures_of(const ledger::Chain& chain, const std::string& job_id) {
  LedgerFigures f;
  f.present = true;
  f.height = chain.blocks.empty() ? 0 : chain.blocks.back().header.height;
  for (const auto& r : ledger::rounds_of(chain, job_id)) {
    f.minted += r.minted;
    for (const auto& u : r.updates) {
      if (!u.accepted) ++f.rejected_by_reason[std::string(rejection_category(u.reason))];
    }
  }
  return f;
}

json job_json(const JobSnapshot& s) {
  const auto& j = s.job;
  return {{"job", j.job_id},
          {"model", j.model},
          {"rule", j.rule},
          {"scorer", j.scorer},
          {"rounds", j.rounds},
          {"rounds_done", s.rounds.size()},
          {"min_workers", j.min_workers},
          {"reward_per_round", j.reward_per_round},
          {"ledger", j.ledger_enabled},
          {"state", s.state}};
}

// Rows a resumed job wrote before this process started (metrics.jsonl), then this process's.
json rounds_json(const json& earlier, const JobSnapshot& s) {
  json arr = earlier;
  for (const auto& m : s.rounds) arr.push_back(json::parse(json_line(m)));
  return arr;
}

json earlier_rounds(const std::filesystem::path& jsonl) {
  json rows = json::array();
  std::ifstream in(jsonl);
  std::string line;
  while (std::getline(in, line)) {
    auto row = json::parse(line, nullptr, false);
    if (!row.is_discarded() && row.is_object()) rows.push_back(std::move(row));
  }
  return rows;
}

// Registry state from the monitor, accepted/rejected/earned from the ledger's rounds.
json workers_json(const JobSnapshot& s, const ledger::Chain* chain) {
  std::map<common::PublicKey, json> rows;
  for (const auto& w : s.workers) {
    // As of the last round; once the job is over every worker has been told to leave.
    const char* state = s.state == "finished" ? "released" : w.connected ? "connected" : "silent";
    rows[w.key] = {{"state", state}, {"last_seen_ms", w.last_seen_ms}};
  }
  if (chain) {
    for (const auto& r : ledger::rounds_of(*chain, s.job.job_id)) {
      for (const auto& u : r.updates) {
        auto& row = rows[u.worker];
        if (!row.contains("state")) row["state"] = "gone";
        if (u.accepted) {
          row["accepted"] = row.value("accepted", 0) + 1;
          row["earned"] = row.value("earned", std::uint64_t{0}) + u.reward;
        } else {
          row["rejected"] = row.value("rejected", 0) + 1;
          auto& reasons = row["reasons"];
          if (!reasons.is_object()) reasons = json::object();
          const std::string category(rejection_category(u.reason));
          reasons[category] = reasons.value(category, 0) + 1;
          row["last_rejection"] = u.reason;
        }
      }
    }
  }
  json arr = json::array();
  for (auto& [key, row] : rows) {
    row["worker"] = common::to_hex(key);
    row["short_id"] = common::short_id(key);
    for (const char* k : {"accepted", "rejected", "earned"}) {
      if (!row.contains(k)) row[k] = 0;
    }
    if (!row.contains("reasons")) row["reasons"] = json::object();
    arr.push_back(row);
  }
  return arr;
}

}  // namespace

struct JobHttpServer::State {
  json earlier_rounds = json::array();
  const JobMonitor* monitor = nullptr;
  bool ledger_enabled = true;
  std::unique_ptr<ledger::LedgerApi> ledger;
  std::unique_ptr<ledger::HttpServer> server;

  std::shared_ptr<const ledger::Chain> chain() {
    if (!ledger_enabled) return nullptr;
    auto c = ledger->chain();
    return c.ok() ? *c : nullptr;
  }

  HttpReply answer(const HttpRequest& request) {
    const auto snap = monitor->snapshot();
    if (request.path == "/metrics") {
      const auto c = chain();
      const LedgerFigures f = c ? figures_of(*c, snap.job.job_id) : LedgerFigures{};
      return {200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(snap, f)};
    }
    if (request.path == "/api/job") return json_reply(job_json(snap));
    if (request.path == "/api/rounds") return json_reply(rounds_json(earlier_rounds, snap));
    if (request.path == "/api/workers") return json_reply(workers_json(snap, chain().get()));
    return ledger::http_error(
        404, "no such page: " + request.path +
                 " (/metrics, /api/job, /api/rounds, /api/workers, /api/ledger/...)");
  }
};

Result<std::unique_ptr<JobHttpServer>> JobHttpServer::start(const JobConfig& config,
                                                            const JobMonitor& monitor) {
  FL_ASSIGN_OR_RETURN(auto address, ledger::parse_listen(config.http_listen));
  FL_ASSIGN_OR_RETURN(auto token, ledger::bearer_token_for(address, config.http_token,
                                                           config.output_dir / "http.token"));
  if (!token.empty() && config.http_token.empty()) {
    spdlog::info(
        "HTTP on {} is not loopback: the API and /metrics need the bearer token written to {}",
        config.http_listen, (config.output_dir / "http.token").string());
  }
  auto s = std::make_unique<State>();
  s->monitor = &monitor;
  s->earlier_rounds = earlier_rounds(config.output_dir / "metrics.jsonl");
  s->ledger_enabled = config.ledger_enabled;
  s->ledger = std::make_unique<ledger::LedgerApi>(config.output_dir / "ledger.db");
  auto* state = s.get();
  auto own = [state](const HttpRequest& r) { return state->answer(r); };
  std::vector<ledger::HttpRoute> routes = {{"/metrics", own}, {"/api/", own}};
  if (config.ledger_enabled) routes.push_back(s->ledger->route());
  FL_ASSIGN_OR_RETURN(s->server, ledger::HttpServer::start(address, token, std::move(routes)));
  return std::unique_ptr<JobHttpServer>(new JobHttpServer(std::move(s)));
}

JobHttpServer::JobHttpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}
JobHttpServer::~JobHttpServer() = default;
std::string JobHttpServer::url() const { return state_->server->url(); }

}  // namespace fl::coordinator
