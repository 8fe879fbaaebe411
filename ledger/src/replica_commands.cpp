// fl-ledger replicate: a replica of the etcd chain, brought up to date and verified.
// fl-ledger archive: old history moved out of etcd into the replicas, below a final checkpoint.
#include <chrono>
#include <iomanip>

#include "command_format.hpp"
#include "fl/common/text_file.hpp"
#include "fl/ledger/etcd_checkpoints.hpp"
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

Result<ReplicaOptions> replica_options(const CommandContext& c, const std::string& endpoints,
                                       const std::string& chain) {
  FL_ASSIGN_OR_RETURN(auto urls, parse_etcd_endpoints(endpoints, "--etcd"));
  if (urls.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--etcd names no member; give \"http://HOST:PORT,...\"");
  }
  ReplicaOptions options;
  options.store.etcd.endpoints = std::move(urls);
  options.store.chain = chain;
  options.replica_db = c.db;
  return options;
}

}  // namespace

int command_archive(const CommandContext& c, const std::string& endpoints, const std::string& chain,
                    const std::string& checkpoint_file, const std::filesystem::path& key_file) {
  auto options = replica_options(c, endpoints, chain);
  if (!options.ok()) return fail(c, options.error());
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  // The replica first: it must hold, verified, every block that leaves etcd.
  auto store = ReplicatedBlockStore::open(*options);
  if (!store.ok()) return fail(c, store.error());
  const auto& report = (*store)->opening_report();  // the replica, verified in full as it opened
  if (!report.ok) {
    return fail(c, make_error(ErrorCode::kCorrupt, c.db.string() + " does not verify; nothing is archived"));
  }
  const auto& consortium = report.consortium;
  if (consortium.witnesses.empty()) {
    return fail(c, make_error(ErrorCode::kPrecondition,
                              "the chain's consortium names no witnesses, so no checkpoint can be final and nothing "
                              "can be archived (`fl-ledger consortium show`)"));
  }
  const auto chain_id = report.genesis_hash;
  common::CosignedCheckpoint cp;
  if (checkpoint_file.empty()) {
    auto latest = latest_final_checkpoint(options->store, chain_id, consortium.witnesses, consortium.quorum);
    if (!latest.ok()) return fail(c, latest.error());
    if (!*latest) {
      return fail(c, make_error(ErrorCode::kNotFound,
                                "no checkpoint published in etcd has the cosignatures of " +
                                    std::to_string(consortium.quorum) +
                                    " witnesses (`fl-ledger witness cosign --publish`); give one with --checkpoint FILE"));
    }
    cp = std::move(**latest);
  } else {
    auto text = common::read_text_file(checkpoint_file);
    if (!text.ok()) return fail(c, text.error());
    auto parsed = common::cosigned_checkpoint_from_json(*text);
    if (!parsed.ok()) return fail(c, with_context(parsed.error(), checkpoint_file));
    cp = std::move(parsed).value();
  }
  const auto& at = cp.checkpoint;
  if (auto st = common::verify_cosigned(cp, consortium.witnesses, consortium.quorum); !st.ok()) {
    return fail(c, with_context(st.error(), "the checkpoint is not final by the consortium's witnesses"));
  }
  auto at_block = (*store)->replica().read_from(at.height);
  if (!at_block.ok()) return fail(c, at_block.error());
  const auto& named = at_block->blocks;
  if (at.chain_id != chain_id || named.empty() || named.front().height != at.height ||
      named.front().hash != std::vector<std::uint8_t>(at.head_hash.begin(), at.head_hash.end())) {
    return fail(c, make_error(ErrorCode::kCorrupt, "the checkpoint at height " + std::to_string(at.height) +
                                                       " does not name this chain's block there; nothing is archived"));
  }
  const auto& etcd = (*store)->etcd();
  auto previous = etcd.archive_marker();
  if (!previous.ok()) return fail(c, previous.error());
  const std::uint64_t done = *previous ? (*previous)->below : 0;
  if (at.height <= done) {
    c.out << "nothing to archive: blocks below " << done << " are archived already; the final checkpoint is at height "
          << at.height << '\n';
    return 0;
  }
  ArchiveMarker marker;
  marker.below = at.height;
  marker.checkpoint = cp;
  marker.by = key->public_key;
  auto chunks = etcd.chunk_keys(done, at.height);
  if (!chunks.ok()) return fail(c, chunks.error());
  marker.chunks = std::move(chunks).value();
  if (*previous) marker.chunks.insert(marker.chunks.begin(), (*previous)->chunks.begin(), (*previous)->chunks.end());
  if (auto st = etcd.archive(marker, *previous); !st.ok()) return fail(c, st.error());
  if (c.json) {
    c.out << json{{"ok", true}, {"archived_below", marker.below}, {"blocks", marker.below - done},
                  {"chunks", marker.chunks.size()}, {"checkpoint_head", common::to_hex(at.head_hash)},
                  {"db", c.db.string()}}
                 .dump(2)
          << '\n';
  } else {
    c.out << "archived blocks " << done << "-" << marker.below - 1 << " out of " << etcd.name() << " ("
          << marker.chunks.size() << " chunks): etcd keeps blocks from " << marker.below
          << " on; the replicas (" << c.db.string()
          << " here) keep all of them. The final checkpoint at height " << marker.below << " (head "
          << common::to_hex(at.head_hash).substr(0, 16) << ") is what every replica checks them against. etcd "
          << "frees the space after `etcdctl compact REV` and `etcdctl defrag`\n";
  }
  return 0;
}

int command_replicate(const CommandContext& c, const std::string& endpoints,
                      const std::string& chain) {
  const auto start = std::chrono::steady_clock::now();
  auto options = replica_options(c, endpoints, chain);
  if (!options.ok()) return fail(c, options.error());
  auto store = ReplicatedBlockStore::open(*options);
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
