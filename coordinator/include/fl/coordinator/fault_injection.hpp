// A test hook for crash safety: with FL_FAULT_AT="STEP:ROUND" in the environment, the
// coordinator kills itself with SIGKILL when it reaches STEP while closing ROUND, so a test can
// check that a kill between any two steps of closing a round loses nothing. Without the
// variable it costs one getenv per step.
#pragma once

#include <cstdint>
#include <string_view>

namespace fl::coordinator {

// Steps, in the order a round is closed.
inline constexpr std::string_view kFaultSteps[] = {"collected", "checkpoint", "ledger", "global", "metrics",
                                                   "receipts"};

void fault_point(std::string_view step, std::uint64_t round);

// RESEARCH MODE, for the audit tests: with FL_FAULT_TAMPER="aggregate:ROUND" the coordinator
// publishes (stores and records) a global model for ROUND that its updates do not produce (the
// first parameter moved by 0.01), as a dishonest coordinator would. True when it should.
bool tamper_with_aggregate(std::uint64_t round);

}  // namespace fl::coordinator
