// A line of a worker's receipts file, as `fl-ledger verify-proof` reads it: a line that parses
// must write back to a line that parses to the same receipt.
#include <cstdint>

#include "fl/common/merkle.hpp"
#include "fl/common/receipt_json.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl::common;
  auto line = receipt_from_json_line(fl::fuzz::as_text(data, size));
  if (!line.ok()) return 0;
  const auto& r = line->receipt;
  (void)verify_inclusion(r.tx_hash, r.leaf_index, r.tree_size, r.proof, r.merkle_root);
  auto again = receipt_from_json_line(
      receipt_to_json_line(line->job_id, line->round, r, line->proof_verified));
  FL_FUZZ_CHECK(again.ok());
  FL_FUZZ_CHECK(again->job_id == line->job_id && again->round == line->round);
  FL_FUZZ_CHECK(again->receipt.proof == r.proof && again->receipt.tx_hash == r.tx_hash);
  return 0;
}
