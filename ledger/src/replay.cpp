#include "replay.hpp"

#include "fl/common/merkle.hpp"

namespace fl::ledger {
namespace {

std::string hex_prefix(const common::Digest& d) { return common::to_hex(d).substr(0, 16); }

class BlockReplay {
 public:
  BlockReplay(ReplayCursor& cursor, const ReplayOptions& options)
      : c_(cursor), integrity_(options.check_integrity) {}

  // One block and its transaction records (those stored under its height, in order).
  std::optional<ReplayFailure> run(const BlockRecord& row, std::span<const TxRecord> rows) {
    const std::uint64_t height = c_.block_count;
    if (row.height != height) {
      return fail("block " + std::to_string(height) + " is missing (next stored height is " +
                  std::to_string(row.height) + ")");
    }
    auto decoded = to_block(row);
    if (!decoded.ok()) return fail(decoded.error().message);
    block_ = std::move(decoded).value();
    if (integrity_) {
      if (auto f = check_header()) return f;
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (auto f = read_tx(rows[i], i)) return f;
    }
    if (integrity_) {
      if (auto f = check_contents()) return f;
    }
    if (height == 0) c_.state = LedgerState(block_.header.proposer);
    c_.state.begin_block(height);
    if (auto st = c_.state.check_block_contents(block_.header, txs_); !st.ok())
      return fail(st.error());
    for (std::size_t i = 0; i < txs_.size(); ++i) {
      if (auto st = c_.state.apply(txs_[i]); !st.ok()) return fail(st.error(), i, hashes_[i]);
    }
    if (auto st = c_.state.check_block_end(); !st.ok()) return fail(st.error());
    c_.block_count = height + 1;
    c_.head_hash = block_.hash;
    if (height == 0) c_.genesis_hash = block_.hash;
    c_.head_time_ms = block_.header.time_ms;
    c_.transactions += txs_.size();
    return std::nullopt;
  }

  Block& block() { return block_; }
  std::vector<Transaction>& txs() { return txs_; }
  std::span<const common::Digest> hashes() const { return hashes_; }

 private:
  ReplayFailure fail(std::string problem, std::optional<std::uint64_t> tx = {},
                     std::optional<common::Digest> hash = {},
                     ErrorCode code = ErrorCode::kCorrupt) const {
    return ReplayFailure{VerifyFailure{c_.block_count, tx, hash, std::move(problem)}, code};
  }
  ReplayFailure fail(const Error& e, std::optional<std::uint64_t> tx = {},
                     std::optional<common::Digest> hash = {}) const {
    return fail(e.message, tx, hash, e.code);
  }

  std::optional<ReplayFailure> check_header() {
    const std::uint64_t height = c_.block_count;
    if (!block_hash_valid(block_)) {
      return fail("stored block hash " + hex_prefix(block_.hash) +
                  " does not match its header (recomputed " +
                  hex_prefix(block_hash(block_.header)) + ")");
    }
    if (block_.header.prev_hash != c_.head_hash) {
      return fail("previous-hash link " + hex_prefix(block_.header.prev_hash) +
                  " does not match the hash of block " + std::to_string(height - 1) + " " +
                  hex_prefix(c_.head_hash));
    }
    ++c_.signatures_checked;
    if (!block_signature_valid(block_)) {
      return fail("proposer signature by " + common::short_id(block_.header.proposer) +
                  " does not verify");
    }
    if (block_.header.time_ms < c_.head_time_ms) return fail("block time goes backwards");
    return std::nullopt;
  }

  std::optional<ReplayFailure> check_contents() {
    if (txs_.size() != block_.header.tx_count) {
      return fail("block holds " + std::to_string(txs_.size()) + " transactions, its header says " +
                  std::to_string(block_.header.tx_count));
    }
    if (common::merkle_root(hashes_) != block_.header.merkle_root) {
      return fail("Merkle root of the block's transactions does not match the header's " +
                  hex_prefix(block_.header.merkle_root));
    }
    return std::nullopt;
  }

  std::optional<ReplayFailure> read_tx(const TxRecord& row, std::size_t i) {
    std::optional<common::Digest> stored_hash;
    if (row.hash.size() == 32)
      std::copy(row.hash.begin(), row.hash.end(), stored_hash.emplace().begin());
    auto bad = [&](std::string problem) { return fail(std::move(problem), i, stored_hash); };
    if (row.index != i) {
      return bad("transaction index " + std::to_string(i) + " is missing (next stored index " +
                 std::to_string(row.index) + ")");
    }
    auto decoded = to_transaction(row);
    if (!decoded.ok()) return bad(decoded.error().message);
    Transaction tx = std::move(decoded).value();
    const common::Digest h = tx_hash(row.body, tx.signature);
    if (integrity_) {
      if (auto problem = column_problem(row, tx)) return bad(*problem);
      ++c_.signatures_checked;
      if (!signature_valid(tx)) {
        return bad(std::string(to_string(tx.type())) + " signature by " +
                   common::short_id(tx.issuer) + " does not verify");
      }
      if (!stored_hash || *stored_hash != h) {
        return bad("stored transaction hash does not match its body and signature (recomputed " +
                   hex_prefix(h) + ")");
      }
    }
    txs_.push_back(std::move(tx));
    hashes_.push_back(h);
    return std::nullopt;
  }

  // The lookup columns a store keeps beside the body must say what the signed body says.
  static std::optional<std::string> column_problem(const TxRecord& row, const Transaction& tx) {
    if (row.type != static_cast<std::int64_t>(tx.type())) {
      return "type column " + std::to_string(row.type) + " disagrees with the signed body's " +
             std::string(to_string(tx.type()));
    }
    if (row.issuer.size() != 32 ||
        !std::equal(row.issuer.begin(), row.issuer.end(), tx.issuer.begin())) {
      return "issuer column disagrees with the signed body's " + common::short_id(tx.issuer);
    }
    if (row.nonce != tx.nonce) {
      return "nonce column " + std::to_string(row.nonce) + " disagrees with the signed body's " +
             std::to_string(tx.nonce);
    }
    if (row.amount != tx.amount()) {
      return "amount column " + (row.amount ? std::to_string(*row.amount) : std::string("NULL")) +
             " disagrees with the signed body's " +
             (tx.amount() ? std::to_string(*tx.amount()) : "none");
    }
    return std::nullopt;
  }

  ReplayCursor& c_;
  bool integrity_;
  Block block_;
  std::vector<Transaction> txs_;
  std::vector<common::Digest> hashes_;
};

ReplayFailure orphan(const TxRecord& row) {
  return ReplayFailure{VerifyFailure{row.height, row.index, {}, "transaction belongs to no block"},
                       ErrorCode::kCorrupt};
}

}  // namespace

Error ReplayFailure::to_error(const std::string& source, const std::string& advice) const {
  std::string message = (source.empty() ? "" : source + ": ") + at.to_string();
  if (!advice.empty()) message += " (" + advice + ")";
  return make_error(code, std::move(message));
}

std::optional<ReplayFailure> replay_chain(ReplayCursor& cursor, const ChainRecords& records,
                                          const ReplayOptions& options,
                                          const ReplayVisitor& visit) {
  const auto& rows = records.txs;
  std::size_t next = 0;
  for (const auto& block_row : records.blocks) {
    // Transactions stored under a height with no block row are orphans.
    if (next < rows.size() && rows[next].height < block_row.height) return orphan(rows[next]);
    std::size_t end = next;
    while (end < rows.size() && rows[end].height == block_row.height) ++end;
    BlockReplay replay(cursor, options);
    if (auto failure = replay.run(block_row, std::span(rows).subspan(next, end - next)))
      return failure;
    if (visit) visit(replay.block(), replay.txs(), replay.hashes());
    next = end;
  }
  if (next < rows.size()) return orphan(rows[next]);
  return std::nullopt;
}

}  // namespace fl::ledger
