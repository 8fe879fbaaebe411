// A proof file as `fl-ledger verify-proof` reads it (`fl-ledger proof TX --json`): JSON, the
// proof reader, the block checks and the inclusion check, which is also run on its own because
// a forged block signature stops check_proof before it.
#include <nlohmann/json.hpp>

#include <cstdint>

#include "command_format.hpp"
#include "fl/common/merkle.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl;
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  auto proof = ledger::proof_from_json(j);
  if (!proof.ok()) return 0;
  (void)ledger::check_proof(*proof, std::nullopt, std::nullopt);
  (void)common::verify_inclusion(proof->tx_hash, proof->leaf_index, proof->tree_size, proof->path,
                                 proof->block.header.merkle_root);
  (void)ledger::proof_json(*proof).dump();
  return 0;
}
