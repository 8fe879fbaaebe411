// fl-ledger terms JOB: the terms a job opened with, and who consented to them (and when).
#include "command_format.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/json.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {

int command_terms(const CommandContext& c, const std::string& job_id) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  const auto job = chain->state.jobs().find(job_id);
  if (job == chain->state.jobs().end()) {
    return fail(c, make_error(ErrorCode::kNotFound, "no job '" + job_id + "' on the ledger"));
  }
  if (!job->second.job.terms) {
    return fail(c, make_error(ErrorCode::kNotFound, "job '" + job_id + "' was opened without terms"));
  }
  const auto& terms = *job->second.job.terms;
  nlohmann::json consents = nlohmann::json::array();
  for (const auto& stored : chain->txs) {
    const auto* consent = std::get_if<ConsentBody>(&stored.tx.body);
    if (!consent || consent->job_id != job_id) continue;
    consents.push_back({{"worker", common::to_hex(stored.tx.issuer)},
                        {"block", stored.height},
                        {"time", utc_time(stored.tx.timestamp_ms)}});
  }
  if (c.json) {
    c.out << nlohmann::json{{"job", job_id},
                            {"terms", nlohmann::json::parse(common::terms_text(terms))},
                            {"terms_digest", common::to_hex(job->second.terms_digest)},
                            {"consents", consents}}
                 .dump(2)
          << '\n';
    return 0;
  }
  c.out << common::describe_terms(terms) << "consents: " << consents.size() << "\n";
  for (const auto& k : consents) {
    c.out << "  " << k["worker"].get<std::string>() << " at block " << k["block"] << " ("
          << k["time"].get<std::string>() << ")\n";
  }
  return 0;
}

}  // namespace fl::ledger
