// verify_ledger(): re-derives everything the ledger claims from the stored records alone, by
// replaying the chain with every hash, Merkle root and signature checked.
#include <algorithm>
#include <optional>

#include "fl/ledger/ledger.hpp"
#include "replay.hpp"

namespace fl::ledger {

std::string VerifyFailure::to_string() const {
  std::string s = "block " + std::to_string(height);
  if (tx_index) s += " tx " + std::to_string(*tx_index);
  if (tx_hash) s += " (" + common::to_hex(*tx_hash).substr(0, 16) + ")";
  return s + ": " + problem;
}

namespace {

// `empty_hint`: what the failure says when the store holds no block at all.
Result<VerifyReport> verify_records(const BlockStore& store, const std::string& empty_hint) {
  FL_ASSIGN_OR_RETURN(auto records, store.read_from(0));  // one snapshot while others write

  VerifyReport report;
  if (records.blocks.empty()) {
    report.failure = VerifyFailure{0, {}, {}, "the ledger has no genesis block" + empty_hint};
    return report;
  }
  if (const auto& g = records.blocks.front(); g.height == 0 && g.hash.size() == report.genesis_hash.size()) {
    std::copy(g.hash.begin(), g.hash.end(), report.genesis_hash.begin());
  }
  ReplayCursor cursor;
  auto failure = replay_chain(cursor, records, ReplayOptions{.check_integrity = true});
  report.blocks = cursor.block_count;
  report.transactions = cursor.transactions;
  report.signatures_checked = cursor.signatures_checked;
  report.authority = cursor.state.authority();
  report.consortium = cursor.state.consortium();
  report.founding_consortium = cursor.state.founding_consortium();
  if (failure) {
    report.failure = failure->at;
    return report;
  }
  const auto& s = cursor.state;
  report.head_hash = cursor.head_hash;
  report.minted = s.minted();
  report.slashed = s.slashed();
  report.total_balances = s.total_balances();
  report.total_stakes = s.total_stakes();
  report.total_escrow = s.total_escrow();
  report.ok = true;
  return report;
}

}  // namespace

Result<VerifyReport> verify_ledger(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto store, open_sqlite_block_store(path, StoreAccess::kReadOnly));
  return verify_records(
      *store, " (if " + path.string() + " is a copy of a ledger, copy its -wal file with it)");
}

Result<VerifyReport> verify_store(const BlockStore& store) {
  return verify_records(store, " in " + store.name());
}

}  // namespace fl::ledger
