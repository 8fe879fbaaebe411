// fl-ledger replicate: a replica of the etcd chain, brought up to date and verified.
#include <chrono>
#include <iomanip>

#include "command_format.hpp"
#include "fl/ledger/replicated_block_store.hpp"

namespace fl::ledger {
namespace {

using nlohmann::json;

json head_json(const std::optional<BlockRecord>& head) {
  if (!head) return json{{"height", nullptr}, {"head", nullptr}};
  return json{{"height", head->height}, {"head", common::to_hex(head->hash)}};
}

std::string head_text(const std::optional<BlockRecord>& head) {
  if (!head) return "empty";
  return "height " + std::to_string(head->height) + " head " + common::to_hex(head->hash);
}

}  // namespace

int command_replicate(const CommandContext& c, const std::string& endpoints,
                      const std::string& chain) {
  const auto start = std::chrono::steady_clock::now();
  auto urls = parse_etcd_endpoints(endpoints, "--etcd");
  if (!urls.ok()) return fail(c, urls.error());
  if (urls->empty()) {
    return fail(c, make_error(ErrorCode::kInvalidArgument,
                              "--etcd names no member; give \"http://HOST:PORT,...\""));
  }
  ReplicaOptions options;
  options.store.etcd.endpoints = std::move(urls).value();
  options.store.chain = chain;
  options.replica_db = c.db;
  auto store = ReplicatedBlockStore::open(options);
  if (!store.ok()) return fail(c, store.error());
  auto etcd_head = (*store)->etcd().head();
  if (!etcd_head.ok()) return fail(c, etcd_head.error());
  auto replica_head = (*store)->replica().head();
  if (!replica_head.ok()) return fail(c, replica_head.error());
  const auto& report = (*store)->opening_report();
  const bool ok =
      report.ok && *etcd_head && *replica_head && (*etcd_head)->hash == (*replica_head)->hash;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (c.json) {
    c.out << json{{"ok", ok},
                  {"etcd", head_json(*etcd_head)},
                  {"replica", head_json(*replica_head)},
                  {"db", c.db.string()},
                  {"verify", verify_json(report)},
                  {"seconds", seconds}}
                 .dump(2)
          << '\n';
  } else {
    c.out << "etcd    " << head_text(*etcd_head) << "\nreplica " << head_text(*replica_head) << " ("
          << c.db.string() << ")\n";
    if (report.ok) {
      c.out << "ok: " << report.blocks << " blocks, " << report.transactions << " transactions, "
            << report.signatures_checked << " signatures checked in " << std::fixed
            << std::setprecision(3) << seconds << " s\n";
    } else {
      c.out << "FAILED: " << (report.failure ? report.failure->to_string() : "empty chain") << '\n';
    }
  }
  if (!ok) c.err << "fl-ledger replicate: " << c.db.string() << " is not etcd's verified chain\n";
  return ok ? 0 : 1;
}

}  // namespace fl::ledger
