// A BlockStore in memory, for tests that need a ledger without a file (and to show that the
// Ledger depends only on the interface). Not thread-safe; one process only.
#pragma once

#include <string>

#include "fl/ledger/block_store.hpp"

namespace fl::test {

class MemoryBlockStore final : public ledger::BlockStore {
 public:
  Result<ledger::ChainRecords> read_from(std::uint64_t from_height) const override {
    ledger::ChainRecords out;
    for (const auto& b : records_.blocks) {
      if (b.height >= from_height) out.blocks.push_back(b);
    }
    for (const auto& t : records_.txs) {
      if (t.height >= from_height) out.txs.push_back(t);
    }
    return out;
  }
  Result<std::uint64_t> block_count() const override { return records_.blocks.size(); }
  Result<std::optional<ledger::BlockRecord>> head() const override {
    if (records_.blocks.empty()) return std::optional<ledger::BlockRecord>{};
    return std::optional<ledger::BlockRecord>(records_.blocks.back());
  }
  Status append(const ledger::Block& block, std::span<const ledger::Transaction> txs,
                std::span<const std::vector<std::uint8_t>> bodies,
                std::span<const common::Digest> hashes) override {
    if (block.header.height != records_.blocks.size()) {
      return make_error(ErrorCode::kAlreadyExists,
                        "block " + std::to_string(block.header.height) + " is taken");
    }
    const auto& h = block.header;
    auto bytes = [](const auto& a) { return std::vector<std::uint8_t>(a.begin(), a.end()); };
    records_.blocks.push_back({h.height, bytes(block.hash), bytes(h.prev_hash),
                               bytes(h.merkle_root), bytes(h.proposer), bytes(block.signature),
                               h.time_ms, h.tx_count});
    for (std::size_t i = 0; i < txs.size(); ++i) {
      records_.txs.push_back({h.height, i, bytes(hashes[i]), bytes(txs[i].issuer), bodies[i],
                              bytes(txs[i].signature), static_cast<std::int64_t>(txs[i].type()),
                              txs[i].nonce, txs[i].amount()});
    }
    ++appends_;
    return ok_status();
  }
  std::string name() const override { return "memory"; }

  ledger::ChainRecords& records() { return records_; }
  int appends() const { return appends_; }

 private:
  ledger::ChainRecords records_;
  int appends_ = 0;
};

}  // namespace fl::test
