// The one JSON form of a receipt: a line of a worker's --receipts file, which
// `fl-ledger verify-proof` reads back. One JSON object per line:
//   {"job_id":"mnist","round":3,"update":<hex>,"reward":250,"tx_hash":<hex>,"block_height":4,
//    "block_hash":<hex>,"merkle_root":<hex>,"leaf_index":2,"tree_size":5,"proof":[<hex>...],
//    "proof_verified":true}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fl/common/checkpoint.hpp"
#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"

namespace fl::common {

struct ReceiptLine {
  std::string job_id;
  std::uint64_t round = 0;
  Receipt receipt;
  bool proof_verified = false;  // what the worker found when it wrote the line
};

// One line, without the trailing newline.
std::string receipt_to_json_line(std::string_view job_id, std::uint64_t round,
                                 const Receipt& receipt, bool proof_verified);
// A receipt the worker settled (a line of <receipts>.final): the receipt's job, round, update
// and block, and the checkpoint its block is under, with the witnesses who cosigned it:
//   {"job_id":..,"round":..,"update":..,"block_height":..,"block_hash":..,
//    "final":{"height":..,"head_hash":..,"witnesses":[<hex>...]}}
std::string settled_receipt_to_json_line(std::string_view job_id, std::uint64_t round, const Receipt& receipt,
                                         const CosignedCheckpoint& checkpoint);
// Every field is required and checked (hex digests of 64 digits, non-negative integers); the
// error names the field that is missing or wrong.
Result<ReceiptLine> receipt_from_json_line(std::string_view line);

}  // namespace fl::common
