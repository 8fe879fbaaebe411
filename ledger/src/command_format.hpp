// What the fl-ledger commands print besides JSON (json.hpp): table rows for rounds, CSV fields,
// and the one way a command reports a failure.
#pragma once

#include <ostream>
#include <string>

#include "fl/ledger/commands.hpp"
#include "fl/ledger/json.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {

// Prints the error (and, with --json, {"ok": false, "error": ...}) and returns exit code 1.
int fail(const CommandContext& c, const Error& e);

// One appended block's first transaction: its summary, hash and height (JSON with --json).
void print_appended(const CommandContext& c, const AppendedBlock& b);

std::string csv_field(const std::string& s);
void print_round(std::ostream& out, const RoundSummary& r);

}  // namespace fl::ledger
