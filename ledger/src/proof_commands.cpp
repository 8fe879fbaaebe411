// fl-ledger proof and verify-proof: Merkle inclusion proofs of transactions, and offline checks
// of proof files (`proof --json`) and of workers' receipts files (one JSON receipt a line).
#include <fstream>
#include <nlohmann/json.hpp>

#include "command_format.hpp"
#include "fl/common/merkle.hpp"
#include "fl/common/receipt_json.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

int command_proof(const CommandContext& c, const std::string& tx_id) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  auto tx = find_tx(*chain, tx_id);
  if (!tx.ok()) return fail(c, tx.error());
  auto proof = proof_for(*chain, **tx);
  if (!proof.ok()) return fail(c, proof.error());
  if (c.json) {
    c.out << proof_json(*proof).dump(2) << '\n';
    return 0;
  }
  c.out << "tx " << to_hex(proof->tx_hash) << "\nleaf " << proof->leaf_index << " of "
        << proof->tree_size << " in block " << proof->block.header.height << " ("
        << to_hex(proof->block.hash) << ")\nroot " << to_hex(proof->block.header.merkle_root)
        << "\npath:\n";
  for (const auto& d : proof->path) c.out << "  " << to_hex(d) << '\n';
  return 0;
}

namespace {

struct TrustedValues {
  std::optional<common::Digest> block_hash;
  std::optional<common::PublicKey> proposer;
};

Result<TrustedValues> trusted_values(const std::optional<std::string>& block_hash_hex,
                                     const std::optional<std::string>& authority_hex) {
  TrustedValues t;
  if (block_hash_hex) {
    auto d = common::digest_from_hex(*block_hash_hex);
    if (!d.ok()) return with_context(d.error(), "--block-hash");
    t.block_hash = *d;
  }
  if (authority_hex) {
    auto k = common::public_key_from_hex(*authority_hex);
    if (!k.ok()) return with_context(k.error(), "--authority");
    t.proposer = *k;
  }
  return t;
}

int verify_proof_document(const CommandContext& c, const std::filesystem::path& file, const json& j,
                          const TrustedValues& trusted) {
  auto proof = proof_from_json(j);
  if (!proof.ok()) return fail(c, with_context(proof.error(), file.string()));
  auto st = check_proof(*proof, trusted.block_hash, trusted.proposer);
  if (c.json) {
    c.out << json{{"ok", st.ok()}, {"error", st.ok() ? "" : st.error().to_string()}}.dump(2)
          << '\n';
  } else {
    c.out << (st.ok() ? "ok: transaction " + to_hex(proof->tx_hash) + " is in block " +
                            std::to_string(proof->block.header.height)
                      : "FAILED: " + st.error().to_string())
          << '\n';
  }
  return st.ok() ? 0 : 1;
}

// A receipt carries no block header, only the block's hash and Merkle root: offline it proves
// that its transaction is under that root, and (with --block-hash) that the block is the one
// trusted.
Status check_receipt(const common::Receipt& r, const TrustedValues& trusted) {
  FL_RETURN_IF_ERROR(common::verify_edge_link(r));
  if (!common::verify_inclusion(r.tx_hash, r.leaf_index, r.tree_size, r.proof, r.merkle_root)) {
    return make_error(ErrorCode::kCorrupt,
                      "Merkle path does not lead from transaction " + short_hex(r.tx_hash) +
                          " (leaf " + std::to_string(r.leaf_index) + " of " +
                          std::to_string(r.tree_size) + ") to root " + short_hex(r.merkle_root));
  }
  if (trusted.block_hash && *trusted.block_hash != r.block_hash) {
    return make_error(ErrorCode::kCorrupt, "block " + std::to_string(r.block_height) + " hash " +
                                               to_hex(r.block_hash) + " is not the trusted " +
                                               to_hex(*trusted.block_hash));
  }
  return ok_status();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

int verify_receipts(const CommandContext& c, const std::filesystem::path& file,
                    const std::string& text, const TrustedValues& trusted,
                    std::optional<std::size_t> only_line) {
  if (trusted.proposer) {
    return fail(
        c,
        make_error(
            ErrorCode::kInvalidArgument,
            file.string() +
                " holds receipts, which name their block only by hash: check it with "
                "--block-hash, or check the proposer on a proof from `fl-ledger proof TX --json`"));
  }
  const auto lines = split_lines(text);
  if (only_line && (*only_line == 0 || *only_line > lines.size())) {
    return fail(c, make_error(ErrorCode::kInvalidArgument,
                              "--line " + std::to_string(*only_line) + ": " + file.string() +
                                  " has " + std::to_string(lines.size()) + " lines"));
  }
  json results = json::array();
  std::size_t checked = 0, failed = 0;
  for (std::size_t n = 1; n <= lines.size(); ++n) {
    if (only_line ? n != *only_line : lines[n - 1].find_first_not_of(" \t\r") == std::string::npos)
      continue;
    const std::string at = file.string() + " line " + std::to_string(n);
    ++checked;
    auto line = common::receipt_from_json_line(lines[n - 1]);
    Status st = line.ok() ? check_receipt(line->receipt, trusted) : Status(line.error());
    json entry{{"line", n}, {"ok", st.ok()}};
    if (st.ok()) {
      const auto& r = line->receipt;
      entry.update({{"job", line->job_id},
                    {"round", line->round},
                    {"update", to_hex(r.update_digest)},
                    {"tx_hash", to_hex(r.tx_hash)},
                    {"block_height", r.block_height},
                    {"block_hash", to_hex(r.block_hash)},
                    {"reward", r.reward}});
      if (r.edge) {
        entry["edge"] = to_hex(r.edge->edge_update.worker_key);
        entry["partial_result"] = to_hex(common::recorded_update(r));
      }
      if (!c.json && r.edge) {
        c.out << "line " << n << ": ok: update " << short_hex(r.update_digest) << " of job '" << line->job_id
              << "' round " << line->round << " is input " << r.edge->leaf_index << " of edge "
              << short_hex(r.edge->edge_update.worker_key) << "'s partial result "
              << short_hex(common::recorded_update(r)) << ", in transaction " << short_hex(r.tx_hash)
              << " under the root of block " << r.block_height << " (" << short_hex(r.block_hash) << ")\n";
      } else if (!c.json) {
        c.out << "line " << n << ": ok: update " << short_hex(r.update_digest) << " of job '"
              << line->job_id << "' round " << line->round << " is in transaction "
              << short_hex(r.tx_hash) << " under the root of block " << r.block_height << " ("
              << short_hex(r.block_hash) << "), reward " << r.reward << '\n';
      }
    } else {
      ++failed;
      entry["error"] = st.error().message;
      if (!c.json) c.out << "line " << n << ": FAILED: " << st.error().message << '\n';
      c.err << "fl-ledger verify-proof: " << at << ": " << st.error().message << '\n';
    }
    results.push_back(entry);
  }
  if (checked == 0)
    return fail(c, make_error(ErrorCode::kInvalidArgument, file.string() + " holds no receipts"));
  if (c.json) c.out << json{{"ok", failed == 0}, {"receipts", results}}.dump(2) << '\n';
  return failed == 0 ? 0 : 1;
}

}  // namespace

int command_verify_proof(const CommandContext& c, const std::filesystem::path& file,
                         const std::optional<std::string>& block_hash_hex,
                         const std::optional<std::string>& authority_hex,
                         std::optional<std::size_t> line) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return fail(c, make_error(ErrorCode::kInvalidArgument,
                              file.string() + " is a directory, not a proof or receipts file"));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return fail(
        c, make_error(ErrorCode::kNotFound, "cannot read proof or receipts file " + file.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto trusted = trusted_values(block_hash_hex, authority_hex);
  if (!trusted.ok()) return fail(c, trusted.error());
  const json whole = json::parse(text, nullptr, false);
  if (!line && whole.is_object() && whole.contains("block"))
    return verify_proof_document(c, file, whole, *trusted);
  return verify_receipts(c, file, text, *trusted, line);
}

}  // namespace fl::ledger
