// Ledger transaction bodies as replay reads them from a block: a body that decodes must
// re-encode to the same bytes (signatures are over those bytes).
#include <algorithm>
#include <cstdint>

#include "fl/ledger/transaction.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl;
  const common::Signature signature{};
  auto tx = ledger::decode({data, size}, signature);
  if (tx.ok()) {
    const auto again = ledger::encode(*tx);
    FL_FUZZ_CHECK(again.size() == size && std::equal(again.begin(), again.end(), data));
    (void)ledger::to_string(tx->type());
    (void)tx->amount();
    (void)ledger::accounts_named(*tx);
    (void)ledger::tx_hash(*tx);
    (void)ledger::signature_valid(*tx);
  }
  return 0;
}
