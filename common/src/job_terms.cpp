#include "fl/common/job_terms.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace fl::common {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxPurposeBytes = 2000;
constexpr std::size_t kMaxShortTextBytes = 256;
constexpr std::size_t kMaxListItems = 64;

const std::set<std::string> kKeys = {"bounty",  "coordinators", "data",           "job_id",
                                     "model",   "model_digest", "privacy",        "purpose",
                                     "readers", "researcher",   "retention_days", "reward_per_round",
                                     "rounds"};

json to_json(const JobTerms& t) {
  json coordinators = json::array();
  for (const auto& k : t.coordinators) coordinators.push_back(to_hex(k));
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

struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const json& field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw FieldError(std::string("no '") + name + "'");
  return *it;
}
std::string text_field(const json& j, const char* name) {
  const auto& v = field(j, name);
  if (!v.is_string()) throw FieldError(std::string("'") + name + "' is not a string");
  return v.get<std::string>();
}
std::uint64_t count_field(const json& j, const char* name) {
  const auto& v = field(j, name);
  if (!v.is_number_unsigned()) throw FieldError(std::string("'") + name + "' is not a non-negative integer");
  return v.get<std::uint64_t>();
}
double number_field(const json& j, const char* name) {
  const auto& v = field(j, name);
  if (!v.is_number()) throw FieldError(std::string("'") + name + "' is not a number");
  return v.get<double>();
}
template <std::size_t N>
std::array<std::uint8_t, N> hex_field(const json& j, const char* name) {
  auto bytes = fixed_from_hex<N>(text_field(j, name), name);
  if (!bytes.ok()) throw FieldError(bytes.error().message);
  return *bytes;
}

JobTerms from_json(const json& j) {
  if (!j.is_object()) throw FieldError("not a JSON object");
  for (const auto& [key, _] : j.items()) {
    if (!kKeys.count(key)) throw FieldError("unknown term '" + key + "'");
  }
  JobTerms t;
  t.job_id = text_field(j, "job_id");
  t.researcher = hex_field<32>(j, "researcher");
  t.purpose = text_field(j, "purpose");
  t.model = text_field(j, "model");
  t.model_digest = hex_field<32>(j, "model_digest");
  t.data = text_field(j, "data");
  t.rounds = count_field(j, "rounds");
  t.reward_per_round = count_field(j, "reward_per_round");
  t.bounty = count_field(j, "bounty");
  if (const auto& p = field(j, "privacy"); !p.is_null()) {
    t.privacy = TermsPrivacy{number_field(p, "epsilon"), number_field(p, "delta")};
  }
  t.retention_days = count_field(j, "retention_days");
  const auto& readers = field(j, "readers");
  if (!readers.is_array()) throw FieldError("'readers' is not a list");
  for (const auto& r : readers) {
    if (!r.is_string()) throw FieldError("'readers' holds a non-string");
    t.readers.push_back(r.get<std::string>());
  }
  const auto& coordinators = field(j, "coordinators");
  if (!coordinators.is_array()) throw FieldError("'coordinators' is not a list");
  for (const auto& c : coordinators) {
    if (!c.is_string()) throw FieldError("'coordinators' holds a non-string");
    auto key = public_key_from_hex(c.get<std::string>());
    if (!key.ok()) throw FieldError("'coordinators': " + key.error().message);
    t.coordinators.push_back(*key);
  }
  return t;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

}  // namespace

std::string model_kind(std::string_view model) {
  const auto colon = model.find(':');
  return std::string(colon == std::string_view::npos ? model : model.substr(0, colon));
}

std::optional<std::string> terms_problem(const JobTerms& t) {
  if (t.job_id.empty() || t.job_id.size() > 128) return "job_id must be 1 to 128 characters";
  if (t.purpose.empty()) return "purpose is empty: say what the job trains and what for";
  if (t.purpose.size() > kMaxPurposeBytes) return "purpose is longer than 2,000 bytes";
  if (t.model.empty() || t.model.size() > kMaxShortTextBytes) return "model must be 1 to 256 characters";
  if (t.data.empty() || t.data.size() > kMaxShortTextBytes) return "data must be 1 to 256 characters";
  if (t.rounds == 0) return "rounds must be at least 1";
  if (t.privacy) {
    const auto& p = *t.privacy;
    if (!(std::isfinite(p.epsilon) && p.epsilon > 0)) return "privacy epsilon must be finite and > 0";
    if (!(p.delta > 0 && p.delta < 1)) return "privacy delta must be in (0, 1)";
  }
  if (t.readers.size() > kMaxListItems) return "more than 64 readers";
  for (const auto& r : t.readers) {
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

std::string terms_text(const JobTerms& terms) { return to_json(terms).dump(); }

Result<JobTerms> parse_terms(std::string_view text) {
  if (text.size() > kMaxTermsBytes) {
    return make_error(ErrorCode::kLimitExceeded, "job terms are " + std::to_string(text.size()) +
                                                     " bytes (limit " + std::to_string(kMaxTermsBytes) + ")");
  }
  JobTerms terms;
  try {
    terms = from_json(json::parse(text));
  } catch (const std::exception& e) {  // json::parse_error, FieldError
    return make_error(ErrorCode::kCorrupt, std::string("job terms: ") + e.what());
  }
  if (auto problem = terms_problem(terms)) return make_error(ErrorCode::kInvalidArgument, "job terms: " + *problem);
  if (terms_text(terms) != text) {
    return make_error(ErrorCode::kCorrupt, "job terms are not in canonical form (compact JSON, sorted keys)");
  }
  return terms;
}

Digest terms_digest(const JobTerms& terms) {
  return Hasher().text("fl-terms-v1").text(terms_text(terms)).finish();
}

std::string describe_terms(const JobTerms& t) {
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
  for (const auto& k : t.coordinators) keys.push_back(short_id(k));
  out << "\ncoordinators: " << join(keys) << "\nterms digest: " << to_hex(terms_digest(t)) << "\n";
  return out.str();
}

Digest consent_digest(const PublicKey& worker, std::string_view job_id, const Digest& terms,
                      std::uint64_t timestamp_ms) {
  return Hasher().text("fl-consent-v1").array(worker).text(job_id).array(terms).u64(timestamp_ms).finish();
}

}  // namespace fl::common
