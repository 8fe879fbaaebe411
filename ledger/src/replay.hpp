// Chain replay: the one place that turns stored block and transaction records into LedgerState.
// The Ledger catches up with it on open and before each append, the queries load with it, and
// `verify` runs it with every hash, Merkle root and signature checked as well. The ledger's rules
// (LedgerState::apply and the block-level checks) always run.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/ledger/block_store.hpp"
#include "fl/ledger/ledger.hpp"
#include "fl/ledger/state.hpp"

namespace fl::ledger {

struct ReplayOptions {
  // Also check what the rules cannot see: each block's hash and previous-hash link, its
  // proposer's signature and time order, the transaction count and Merkle root, every stored
  // column against the signed body, every transaction signature and stored hash.
  bool check_integrity = false;
};

// Where replay stands; replay_chain continues from here (block_count is the next height).
struct ReplayCursor {
  LedgerState state;
  std::uint64_t block_count = 0;
  common::Digest head_hash{};
  common::Digest genesis_hash{};  // block 0's hash: the chain's identity
  std::uint64_t head_time_ms = 0;
  std::uint64_t transactions = 0;        // replayed
  std::uint64_t signatures_checked = 0;  // with check_integrity
};

struct ReplayFailure {
  VerifyFailure at;  // first bad block (and transaction) and what is wrong
  ErrorCode code = ErrorCode::kCorrupt;
  // "<source>: block 7 tx 2 (3fa1c09e...): ..., <advice>"
  Error to_error(const std::string& source, const std::string& advice = "") const;
};

// Called after each block that replayed cleanly, with its transactions and their hashes.
using ReplayVisitor = std::function<void(const Block& block, std::vector<Transaction>& txs,
                                         std::span<const common::Digest> hashes)>;

// Replays `records` (which must start at cursor.block_count) into `cursor`. Stops at the first
// failure; the cursor then describes the blocks before it, its state is not to be used.
std::optional<ReplayFailure> replay_chain(ReplayCursor& cursor, const ChainRecords& records,
                                          const ReplayOptions& options,
                                          const ReplayVisitor& visit = {});

}  // namespace fl::ledger
