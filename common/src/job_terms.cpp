#include "fl/common/job_terms.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "fl/common/json_fields.hpp"

namespace fl::common {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxPurposeBytes = 2000;
constexpr std::size_t kMaxShortTextBytes = 256;
constexpr std::size_t kMaxListItems = 64;

const std::set<std::string> kKeys = {"bounty",         "coordinators",     "data",    "job_id",  "model",
                                     "model_digest",   "privacy",          "purpose", "readers", "researcher",
                                     "retention_days", "reward_per_round", "rounds"};

json to_json(const JobTerms &t) {
  json coordinators = json::array();
  for (const auto &k : t.coordinators) coordinators.push_back(to_hex(k));
  json j = {{"job_id", t.job_id},
            {"researcher", to_hex(t.researcher)},
            {"purpose", t.purpose},
            {"model", t.model},
            {"model_digest", to_hex(t.model_digest)},
            {"data", t.data},
            {"rounds", t.rounds},
            {"reward_per_round", t.reward_per_round},
            {"bounty", t.bounty},
            {"privacy", nullptr},
            {"retention_days", t.retention_days},
            {"readers", t.readers},
            {"coordinators", coordinators}};
  if (t.privacy) j["privacy"] = {{"epsilon", t.privacy->epsilon}, {"delta", t.privacy->delta}};
  return j;
}

const JsonFields kFields("job terms: ");

Result<PublicKey> key_item(const json &v, const std::string &what) { return kFields.hex_value<32>(v, what); }
Result<std::string> text_item(const json &v, const std::string &what) {
  if (!v.is_string()) return kFields.bad(what + " is not a string");
  return v.get<std::string>();
}

Result<JobTerms> from_json(const json &j) {
  if (!j.is_object()) return kFields.bad("not a JSON object");
  for (const auto &[key, _] : j.items()) {
    if (!kKeys.count(key)) return kFields.bad("unknown term '" + key + "'");
  }
  JobTerms t;
  FL_ASSIGN_OR_RETURN(t.job_id, kFields.text(j, "job_id"));
  FL_ASSIGN_OR_RETURN(t.researcher, kFields.hex<32>(j, "researcher"));
  FL_ASSIGN_OR_RETURN(t.purpose, kFields.text(j, "purpose"));
  FL_ASSIGN_OR_RETURN(t.model, kFields.text(j, "model"));
  FL_ASSIGN_OR_RETURN(t.model_digest, kFields.digest(j, "model_digest"));
  FL_ASSIGN_OR_RETURN(t.data, kFields.text(j, "data"));
  FL_ASSIGN_OR_RETURN(t.rounds, kFields.u64(j, "rounds"));
  FL_ASSIGN_OR_RETURN(t.reward_per_round, kFields.u64(j, "reward_per_round"));
  FL_ASSIGN_OR_RETURN(t.bounty, kFields.u64(j, "bounty"));
  FL_ASSIGN_OR_RETURN(const json *p, kFields.field(j, "privacy"));
  if (!p->is_null()) {
    TermsPrivacy privacy;
    FL_ASSIGN_OR_RETURN(privacy.epsilon, kFields.number(*p, "epsilon"));
    FL_ASSIGN_OR_RETURN(privacy.delta, kFields.number(*p, "delta"));
    t.privacy = privacy;
  }
  FL_ASSIGN_OR_RETURN(t.retention_days, kFields.u64(j, "retention_days"));
  FL_ASSIGN_OR_RETURN(t.readers, kFields.list<std::string>(j, "readers", text_item));
  FL_ASSIGN_OR_RETURN(t.coordinators, kFields.list<PublicKey>(j, "coordinators", key_item));
  return t;
}

std::string join(const std::vector<std::string> &items) {
  std::string out;
  for (const auto &s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string model_kind(std::string_view model) {
  const auto colon = model.find(':');
  return std::string(colon == std::string_view::npos ? model : model.substr(0, colon));
}

std::optional<std::string> terms_problem(const JobTerms &t) {
  if (t.job_id.empty() || t.job_id.size() > 128) return "job_id must be 1 to 128 characters";
  if (t.purpose.empty()) return "purpose is empty: say what the job trains and what for";
  if (t.purpose.size() > kMaxPurposeBytes) return "purpose is longer than 2,000 bytes";
  if (t.model.empty() || t.model.size() > kMaxShortTextBytes) return "model must be 1 to 256 characters";
  if (t.data.empty() || t.data.size() > kMaxShortTextBytes) return "data must be 1 to 256 characters";
  if (t.rounds == 0) return "rounds must be at least 1";
  if (t.privacy) {
    const auto &p = *t.privacy;
    if (!(std::isfinite(p.epsilon) && p.epsilon > 0)) return "privacy epsilon must be finite and > 0";
    if (!(p.delta > 0 && p.delta < 1)) return "privacy delta must be in (0, 1)";
  }
  if (t.readers.size() > kMaxListItems) return "more than 64 readers";
  for (const auto &r : t.readers) {
    if (r.empty() || r.size() > kMaxShortTextBytes) return "a reader must be 1 to 256 characters";
  }
  if (t.coordinators.empty()) return "no coordinator is allowed to run the job";
  if (t.coordinators.size() > kMaxListItems) return "more than 64 coordinators";
  if (std::set<PublicKey>(t.coordinators.begin(), t.coordinators.end()).size() != t.coordinators.size()) {
    return "a coordinator key is listed twice";
  }
  if (terms_text(t).size() > kMaxTermsBytes) return "the terms are larger than 16 KiB";
  return std::nullopt;
}

std::string terms_text(const JobTerms &terms) { return to_json(terms).dump(); }

Result<JobTerms> parse_terms(std::string_view text) {
  if (text.size() > kMaxTermsBytes) {
    return make_error(ErrorCode::kLimitExceeded, "job terms are " + std::to_string(text.size()) + " bytes (limit " +
                                                     std::to_string(kMaxTermsBytes) + ")");
  }
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::kCorrupt, "job terms are not JSON");
  auto parsed = from_json(j);
  if (!parsed.ok()) return make_error(ErrorCode::kCorrupt, parsed.error().message);
  JobTerms terms = std::move(*parsed);
  if (auto problem = terms_problem(terms)) return make_error(ErrorCode::kInvalidArgument, "job terms: " + *problem);
  if (terms_text(terms) != text) {
    return make_error(ErrorCode::kCorrupt, "job terms are not in canonical form (compact JSON, sorted keys)");
  }
  return terms;
}

Digest terms_digest(const JobTerms &terms) { return terms_text_digest(terms_text(terms)); }

Digest terms_text_digest(std::string_view canonical_text) {
  return Hasher().text("fl-terms-v1").text(canonical_text).finish();
}

std::string describe_terms(const JobTerms &t) {
  std::ostringstream out;
  out << "job: " << t.job_id << "\nresearcher: " << to_hex(t.researcher) << "\npurpose: " << t.purpose
      << "\nmodel: " << t.model << " (initial parameters " << to_hex(t.model_digest) << ")\ndata: " << t.data
      << "\nrounds: " << t.rounds << "\nreward: ";
  if (t.bounty > 0) {
    out << "a bounty of " << t.bounty << " in escrow, up to " << t.reward_per_round << " a round";
  } else {
    out << t.reward_per_round << " a round (minted)";
  }
  out << "\nprivacy: ";
  if (t.privacy) {
    out << "client-level DP, (epsilon " << t.privacy->epsilon << ", delta " << t.privacy->delta << ")";
  } else {
    out << "no differential-privacy promise";
  }
  out << "\nupdates kept: ";
  if (t.retention_days == 0) {
    out << "not after their round";
  } else {
    out << t.retention_days << " days, readable by " << join(t.readers);
  }
  std::vector<std::string> keys;
  for (const auto &k : t.coordinators) keys.push_back(short_id(k));
  out << "\ncoordinators: " << join(keys) << "\nterms digest: " << to_hex(terms_digest(t)) << "\n";
  return out.str();
}

Digest consent_digest(const PublicKey &worker, std::string_view job_id, const Digest &terms,
                      std::uint64_t timestamp_ms) {
  return Hasher().text("fl-consent-v1").array(worker).text(job_id).array(terms).u64(timestamp_ms).finish();
}

}  // namespace fl::common
