#include "command_format.hpp"

#include <iomanip>

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

int fail(const CommandContext& c, const Error& e) {
  if (c.json) {
    c.out << json{{"ok", false}, {"error", e.to_string()}}.dump(2) << '\n';
  }
  c.err << "fl-ledger: " << e.to_string() << '\n';
  return 1;
}

void print_round(std::ostream& out, const RoundSummary& r) {
  out << "job '" << r.job_id << "' round " << r.round << "  block " << r.height << "  tx "
      << short_hex(r.tx_hash) << "\n  model " << to_hex(r.model_digest) << "\n  rule " << r.rule
      << (r.scorer.empty() ? "" : ", scorer " + r.scorer) << ", minted " << r.minted << "\n";
  for (const auto& u : r.updates) {
    out << "  " << (u.accepted ? "accepted " : "rejected ") << common::short_id(u.worker)
        << "  update " << short_hex(u.update_digest);
    if (u.accepted) {
      out << "  score " << std::fixed << std::setprecision(4) << u.score << "  samples "
          << u.num_samples << "  paid " << u.reward << '\n';
    } else {
      out << "  reason: " << u.reason << '\n';
    }
  }
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

void print_appended(const CommandContext& c, const AppendedBlock& b) {
  if (c.json) {
    c.out << nlohmann::json{{"ok", true},
                            {"tx", common::to_hex(b.tx_hashes.at(0))},
                            {"height", b.block.header.height},
                            {"block_hash", common::to_hex(b.block.hash)},
                            {"summary", describe(b.txs.at(0))}}
                 .dump(2)
          << '\n';
  } else {
    c.out << describe(b.txs.at(0)) << "\n  tx " << common::to_hex(b.tx_hashes.at(0)) << " in block "
          << b.block.header.height << '\n';
  }
}

}  // namespace fl::ledger
