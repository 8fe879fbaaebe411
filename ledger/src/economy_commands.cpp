// fl-ledger refund and slash: the token economy's admin actions (economy.hpp) from a shell.
#include <fstream>

#include "command_format.hpp"
#include "fl/ledger/economy.hpp"

namespace fl::ledger {

int command_refund(const CommandContext& c, const std::filesystem::path& key_file, const std::string& job_id) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  auto led = Ledger::open(c.db);
  if (!led.ok()) return fail(c, led.error());
  auto block = refund_escrow(**led, *key, job_id);
  if (!block.ok()) return fail(c, block.error());
  if (!*block) {  // nothing to refund: say why
    const auto& jobs = (*led)->state().jobs();
    const auto job = jobs.find(job_id);
    if (job == jobs.end()) return fail(c, make_error(ErrorCode::kNotFound, "no job '" + job_id + "' on the ledger"));
    return fail(c, make_error(ErrorCode::kPrecondition,
                              "job '" + job_id + "' " +
                                  (job->second.closed ? "is already closed" : "has no escrow (its rewards are minted)")));
  }
  print_appended(c, **block);
  return 0;
}

int command_slash(const CommandContext& c, const std::filesystem::path& key_file,
                  const std::filesystem::path& evidence_file, double fraction, std::size_t line) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  std::ifstream in(evidence_file);
  if (!in) return fail(c, make_error(ErrorCode::kIo, "cannot read " + evidence_file.string()));
  std::string text;
  for (std::size_t n = 1; n <= line; ++n) {
    if (!std::getline(in, text)) {
      return fail(c, make_error(ErrorCode::kInvalidArgument,
                                evidence_file.string() + " has no line " + std::to_string(line)));
    }
  }
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    return fail(c, make_error(ErrorCode::kInvalidArgument,
                              evidence_file.string() + " line " + std::to_string(line) + " is not JSON"));
  }
  auto evidence = evidence_from_json(parsed);
  if (!evidence.ok()) {
    return fail(c, with_context(evidence.error(), evidence_file.string() + " line " + std::to_string(line)));
  }
  auto led = Ledger::open(c.db);
  if (!led.ok()) return fail(c, led.error());
  auto block = slash_equivocation(**led, *key, *evidence, fraction);
  if (!block.ok()) return fail(c, block.error());
  print_appended(c, *block);
  return 0;
}

}  // namespace fl::ledger
