// The validation record the ledger keeps for a closed round (ledger::RoundValidation: the
// validation loss before and after; nullopt without a validation set). Private to the
// coordinator and simulate, which link the ledger.
#pragma once

#include <optional>

#include "fl/coordinator/round.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::coordinator {

std::optional<ledger::RoundValidation> validation_record(const ClosedRound& closed);

}  // namespace fl::coordinator
