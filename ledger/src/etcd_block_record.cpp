// The etcd store's key names and its one-value encoding of a block record (little-endian
// fixed-width integers, byte strings with a u64 length):
//   u64 height, hash, prev_hash, merkle_root, proposer, signature, u64 time_ms, u64 tx_count,
//   u64 n, n x (u64 index, hash, i64 type, issuer, u64 nonce, u8 has_amount, u64 amount,
//               body, signature)
#include <cstdio>

#include "fl/ledger/etcd_block_store.hpp"

namespace fl::ledger {

std::string chain_prefix(std::string_view chain) {
  return "/fedledger/" + std::string(chain) + "/";
}

std::string height_digits(std::uint64_t height) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(height));
  return digits;
}

std::string block_key(std::string_view prefix, std::uint64_t height) {
  return std::string(prefix) + "block/" + height_digits(height);
}

namespace {

class Writer {
 public:
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u8(std::uint8_t v) { out_.push_back(v); }
  void bytes(std::span<const std::uint8_t> b) {
    u64(b.size());
    out_.insert(out_.end(), b.begin(), b.end());
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  std::vector<std::uint8_t> out_;
};

class Reader {
 public:
  Reader(std::span<const std::uint8_t> in, const std::string& where) : in_(in), where_(where) {}
  Result<std::uint64_t> u64() {
    if (in_.size() - pos_ < 8) return truncated();
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  Result<std::uint8_t> u8() {
    if (pos_ >= in_.size()) return truncated();
    return in_[pos_++];
  }
  Result<std::vector<std::uint8_t>> bytes() {
    FL_ASSIGN_OR_RETURN(auto n, u64());
    if (n > in_.size() - pos_) return truncated();
    std::vector<std::uint8_t> out(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
    return out;
  }
  // A count of items of at least `min_bytes` each, checked against what is left.
  Result<std::uint64_t> count(std::size_t min_bytes) {
    FL_ASSIGN_OR_RETURN(auto n, u64());
    if (n > (in_.size() - pos_) / min_bytes) return truncated();
    return n;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  Error truncated() const {
    return make_error(ErrorCode::kCorrupt,
                      where_ + ": block record is truncated at byte " + std::to_string(pos_));
  }
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  const std::string& where_;
};

}  // namespace

std::vector<std::uint8_t> encode_stored_block(const StoredBlock& stored) {
  Writer w;
  const auto& b = stored.block;
  w.u64(b.height);
  for (const auto* blob : {&b.hash, &b.prev_hash, &b.merkle_root, &b.proposer, &b.signature}) {
    w.bytes(*blob);
  }
  w.u64(b.time_ms);
  w.u64(b.tx_count);
  w.u64(stored.txs.size());
  for (const auto& t : stored.txs) {
    w.u64(t.index);
    w.bytes(t.hash);
    w.u64(static_cast<std::uint64_t>(t.type));
    w.bytes(t.issuer);
    w.u64(t.nonce);
    w.u8(t.amount ? 1 : 0);
    w.u64(t.amount.value_or(0));
    w.bytes(t.body);
    w.bytes(t.signature);
  }
  return w.take();
}

Result<StoredBlock> decode_stored_block(std::span<const std::uint8_t> bytes,
                                        const std::string& where) {
  Reader r(bytes, where);
  StoredBlock out;
  auto& b = out.block;
  FL_ASSIGN_OR_RETURN(b.height, r.u64());
  for (auto* blob : {&b.hash, &b.prev_hash, &b.merkle_root, &b.proposer, &b.signature}) {
    FL_ASSIGN_OR_RETURN(*blob, r.bytes());
  }
  FL_ASSIGN_OR_RETURN(b.time_ms, r.u64());
  FL_ASSIGN_OR_RETURN(b.tx_count, r.u64());
  FL_ASSIGN_OR_RETURN(auto n, r.count(8 * 9 + 1));
  out.txs.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    TxRecord t;
    t.height = b.height;
    FL_ASSIGN_OR_RETURN(t.index, r.u64());
    FL_ASSIGN_OR_RETURN(t.hash, r.bytes());
    FL_ASSIGN_OR_RETURN(auto type, r.u64());
    t.type = static_cast<std::int64_t>(type);
    FL_ASSIGN_OR_RETURN(t.issuer, r.bytes());
    FL_ASSIGN_OR_RETURN(t.nonce, r.u64());
    FL_ASSIGN_OR_RETURN(auto has_amount, r.u8());
    FL_ASSIGN_OR_RETURN(auto amount, r.u64());
    if (has_amount) t.amount = amount;
    FL_ASSIGN_OR_RETURN(t.body, r.bytes());
    FL_ASSIGN_OR_RETURN(t.signature, r.bytes());
    out.txs.push_back(std::move(t));
  }
  if (!r.done()) {
    return make_error(ErrorCode::kCorrupt, where + ": block record has trailing bytes");
  }
  return out;
}

}  // namespace fl::ledger
