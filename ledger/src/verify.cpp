// verify_ledger(): re-derives everything the ledger claims from the stored rows alone.
#include <optional>

#include "fl/common/merkle.hpp"
#include "fl/ledger/ledger.hpp"
#include "sqlite.hpp"
#include "store.hpp"

namespace fl::ledger {
namespace {

struct Failure {
  std::optional<std::uint64_t> tx_index;
  std::optional<common::Digest> tx_hash;
  std::string problem;
};

std::string hex_prefix(const common::Digest& d) { return common::to_hex(d).substr(0, 16); }

class ChainVerifier {
 public:
  explicit ChainVerifier(VerifyReport& report) : report_(report) {}

  // Checks one block and its transactions (rows of this height, in stored order).
  std::optional<Failure> check_block(std::uint64_t expected_height, const store::BlockRow& row,
                                     std::span<const store::TxRow> rows) {
    if (row.height != expected_height) {
      return Failure{{}, {}, "block " + std::to_string(expected_height) + " is missing (next stored height is " +
                                 std::to_string(row.height) + ")"};
    }
    auto decoded = store::to_block(row);
    if (!decoded.ok()) return Failure{{}, {}, decoded.error().message};
    const Block& block = decoded.value();
    if (!block_hash_valid(block)) {
      return Failure{{}, {}, "stored block hash " + hex_prefix(block.hash) + " does not match its header (recomputed " +
                                 hex_prefix(block_hash(block.header)) + ")"};
    }
    if (block.header.prev_hash != prev_hash_) {
      return Failure{{}, {}, "previous-hash link " + hex_prefix(block.header.prev_hash) +
                                 " does not match the hash of block " + std::to_string(expected_height - 1) + " " +
                                 hex_prefix(prev_hash_)};
    }
    ++report_.signatures_checked;
    if (!block_signature_valid(block)) {
      return Failure{{}, {}, "proposer signature by " + common::short_id(block.header.proposer) + " does not verify"};
    }
    if (block.header.time_ms < prev_time_ms_) return Failure{{}, {}, "block time goes backwards"};

    std::vector<Transaction> txs;
    std::vector<common::Digest> hashes;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto f = check_tx(rows[i], i, txs, hashes);
      if (f) return f;
    }
    if (rows.size() != block.header.tx_count) {
      return Failure{{}, {}, "block holds " + std::to_string(rows.size()) + " transactions, its header says " +
                                 std::to_string(block.header.tx_count)};
    }
    if (common::merkle_root(hashes) != block.header.merkle_root) {
      return Failure{{}, {}, "Merkle root of the block's transactions does not match the header's " +
                                 hex_prefix(block.header.merkle_root)};
    }
    if (expected_height == 0) {
      if (!txs.empty()) return Failure{{}, {}, "genesis block holds transactions"};
      state_ = LedgerState(block.header.proposer);
      report_.authority = block.header.proposer;
    }
    if (auto st = state_.check_block_contents(block.header, txs); !st.ok()) return Failure{{}, {}, st.error().message};
    for (std::size_t i = 0; i < txs.size(); ++i) {
      if (auto st = state_.apply(txs[i]); !st.ok()) return Failure{i, hashes[i], st.error().message};
    }
    if (auto st = state_.check_block_end(); !st.ok()) return Failure{{}, {}, st.error().message};
    prev_hash_ = block.hash;
    prev_time_ms_ = block.header.time_ms;
    report_.transactions += txs.size();
    return std::nullopt;
  }

  const LedgerState& state() const { return state_; }
  const common::Digest& head() const { return prev_hash_; }

 private:
  std::optional<Failure> check_tx(const store::TxRow& row, std::size_t i, std::vector<Transaction>& txs,
                                  std::vector<common::Digest>& hashes) {
    std::optional<common::Digest> stored_hash;
    if (row.hash.size() == 32) stored_hash = sql::fixed_blob<32>(row.hash, "hash").value();
    auto fail = [&](std::string problem) { return Failure{i, stored_hash, std::move(problem)}; };
    if (row.index != i) return fail("transaction index " + std::to_string(i) + " is missing (next stored index " +
                                    std::to_string(row.index) + ")");
    auto decoded = store::to_transaction(row);
    if (!decoded.ok()) return fail(decoded.error().message);
    const Transaction& tx = decoded.value();
    if (row.type != static_cast<std::int64_t>(tx.type())) {
      return fail("type column " + std::to_string(row.type) + " disagrees with the signed body's " +
                  std::string(to_string(tx.type())));
    }
    if (row.issuer.size() != 32 || !std::equal(row.issuer.begin(), row.issuer.end(), tx.issuer.begin())) {
      return fail("issuer column disagrees with the signed body's " + common::short_id(tx.issuer));
    }
    if (row.nonce != tx.nonce) {
      return fail("nonce column " + std::to_string(row.nonce) + " disagrees with the signed body's " +
                  std::to_string(tx.nonce));
    }
    if (row.amount != tx.amount()) {
      return fail("amount column " + (row.amount ? std::to_string(*row.amount) : std::string("NULL")) +
                  " disagrees with the signed body's " + (tx.amount() ? std::to_string(*tx.amount()) : "none"));
    }
    ++report_.signatures_checked;
    if (!signature_valid(tx)) {
      return fail(std::string(to_string(tx.type())) + " signature by " + common::short_id(tx.issuer) +
                  " does not verify");
    }
    const common::Digest h = tx_hash(row.body, tx.signature);
    if (!stored_hash || *stored_hash != h) {
      return fail("stored transaction hash does not match its body and signature (recomputed " + hex_prefix(h) + ")");
    }
    txs.push_back(tx);
    hashes.push_back(h);
    return std::nullopt;
  }

  VerifyReport& report_;
  LedgerState state_;
  common::Digest prev_hash_{};
  std::uint64_t prev_time_ms_ = 0;
};

}  // namespace

std::string VerifyFailure::to_string() const {
  std::string s = "block " + std::to_string(height);
  if (tx_index) s += " tx " + std::to_string(*tx_index);
  if (tx_hash) s += " (" + hex_prefix(*tx_hash) + ")";
  return s + ": " + problem;
}

Result<VerifyReport> verify_ledger(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto db, sql::Database::open(path, sql::Database::Mode::kReadOnly));
  FL_ASSIGN_OR_RETURN(auto txn, sql::Transaction::begin_read(db));  // one snapshot while others write
  FL_ASSIGN_OR_RETURN(auto blocks, store::read_blocks(db, 0));
  FL_ASSIGN_OR_RETURN(auto rows, store::read_txs(db, 0));

  VerifyReport report;
  if (blocks.empty()) {
    report.failure = VerifyFailure{0, {}, {}, "the ledger has no genesis block"};
    return report;
  }
  ChainVerifier verifier(report);
  std::size_t next = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    // Transactions stored under a height with no block row are orphans.
    if (next < rows.size() && rows[next].height < blocks[b].height) {
      report.failure = VerifyFailure{rows[next].height, rows[next].index, {}, "transaction belongs to no block"};
      return report;
    }
    std::size_t end = next;
    while (end < rows.size() && rows[end].height == blocks[b].height) ++end;
    auto failure = verifier.check_block(b, blocks[b], std::span(rows).subspan(next, end - next));
    if (failure) {
      report.failure = VerifyFailure{b, failure->tx_index, failure->tx_hash, failure->problem};
      return report;
    }
    next = end;
    ++report.blocks;
  }
  if (next < rows.size()) {
    report.failure = VerifyFailure{rows[next].height, rows[next].index, {}, "transaction belongs to no block"};
    return report;
  }
  const auto& s = verifier.state();
  report.head_hash = verifier.head();
  report.minted = s.minted();
  report.slashed = s.slashed();
  report.total_balances = s.total_balances();
  report.total_stakes = s.total_stakes();
  report.ok = true;
  return report;
}

}  // namespace fl::ledger
