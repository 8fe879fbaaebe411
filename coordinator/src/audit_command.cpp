// fl-ledger audit: the command over audit_rounds (round_audit.hpp).
#include <iomanip>
#include <sstream>
#include <nlohmann/json.hpp>

#include "fl/coordinator/round_audit.hpp"

namespace fl::coordinator {

namespace {

std::string short_hex(const common::Digest& d) { return common::to_hex(d).substr(0, 16); }

}  // namespace

Status audit_chain(const std::filesystem::path& db, const std::filesystem::path& store_dir,
                   const std::vector<std::string>& jobs, const std::optional<StoreFetch>& fetch, std::ostream* log) {
  FL_ASSIGN_OR_RETURN(const auto chain, ledger::load_chain(db));
  std::vector<std::string> to_audit = jobs;
  if (to_audit.empty()) {
    for (const auto& [id, job] : chain.state.jobs()) {
      if (!job.rounds.empty()) to_audit.push_back(id);
    }
  }
  const UpdateStore store(store_dir);
  if (fetch) {
    std::ostringstream quiet;
    FL_RETURN_IF_ERROR(fetch_for_audit(chain, to_audit, store, *fetch, log ? *log : quiet));
  }
  for (const auto& id : to_audit) {
    FL_ASSIGN_OR_RETURN(const auto audits, audit_rounds(chain, id, store, {}));
    for (const auto& a : audits) {
      if (!a.ok) {
        return make_error(ErrorCode::kInvalidArgument, "job '" + id + "' " + a.problem +
                                                           " (the audit of block " +
                                                           std::to_string(a.height) + " failed)");
      }
    }
  }
  return ok_status();
}

int command_audit(const ledger::CommandContext& c, const std::string& job_id,
                  const std::filesystem::path& store_dir, AuditRange range, const std::optional<StoreFetch>& fetch) {
  const auto fail = [&](const Error& e) {
    c.err << "fl-ledger audit: " << e.message << '\n';
    return 1;
  };
  std::error_code ec;
  if (!fetch && !std::filesystem::is_directory(store_dir, ec)) {
    return fail(make_error(ErrorCode::kNotFound, "--store " + store_dir.string() +
                                                     " is not a folder; give a coordinator's <output>/store, or "
                                                     "--fetch the entries from the members' store servers into it"));
  }
  auto chain = ledger::load_chain(c.db);
  if (!chain.ok()) return fail(chain.error());
  if (fetch) {
    auto fetched = fetch_for_audit(*chain, {job_id}, UpdateStore(store_dir), *fetch, c.json ? c.err : c.out, range);
    if (!fetched.ok()) return fail(fetched.error());
  }
  auto audits = audit_rounds(*chain, job_id, UpdateStore(store_dir), range);
  if (!audits.ok()) return fail(audits.error());
  bool all_ok = true;
  for (const auto& a : *audits) all_ok &= a.ok;
  if (c.json) {
    nlohmann::json rounds = nlohmann::json::array();
    for (const auto& a : *audits) {
      rounds.push_back({{"round", a.round},
                        {"block", a.height},
                        {"ok", a.ok},
                        {"rerun", a.rerun},
                        {"updates", a.updates},
                        {"recorded_model", common::to_hex(a.recorded)},
                        {"derived_model", a.rerun ? common::to_hex(a.derived) : ""},
                        {"scores_rerun", a.scores_rerun},
                        {"problem", a.problem},
                        {"note", a.note},
                        {"seconds", a.seconds}});
    }
    c.out << nlohmann::json{{"job", job_id}, {"ok", all_ok}, {"rounds", rounds}}.dump(2) << '\n';
  } else {
    for (const auto& a : *audits) {
      c.out << "round " << a.round << " (block " << a.height << "): ";
      if (!a.ok) {
        c.out << "FAILED: " << a.problem << '\n';
        continue;
      }
      c.out << "ok";
      if (a.rerun) {
        c.out << ", " << a.updates << " updates re-run to model " << short_hex(a.derived) << " in "
              << std::fixed << std::setprecision(3) << a.seconds << " s"
              << (a.scores_rerun ? ", scores re-computed" : "");
      }
      c.out << (a.note.empty() ? "" : " (" + a.note + ")") << '\n';
    }
    c.out << (all_ok ? "audit: ok, " : "audit: FAILED, ") << audits->size() << " round(s) of job '"
          << job_id << "'\n";
  }
  if (!all_ok) {
    for (const auto& a : *audits) {
      if (!a.ok) c.err << "fl-ledger audit: " << a.problem << '\n';
    }
  }
  return all_ok ? 0 : 1;
}

}  // namespace fl::coordinator
