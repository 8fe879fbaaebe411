#include "fl/common/job_card.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace fl::common {

namespace {
constexpr std::string_view kMagic = "fedledger-job-card-v1";
constexpr std::size_t kMaxCardBytes = 16 * 1024;
}  // namespace

Digest job_card_digest(const JobCard& card) {
  return Hasher()
      .text("fl-job-card-v1")
      .text(card.endpoint)
      .array(card.coordinator_key)
      .text(card.job_id)
      .array(card.researcher_key)
      .array(card.model_digest)
      .array(card.terms_digest)
      .finish();
}

void sign_job_card(JobCard& card, const KeyPair& researcher) {
  card.researcher_key = researcher.public_key;
  card.signature = sign(researcher.secret_key, job_card_digest(card));
}

Status verify_job_card(const JobCard& card) {
  if (!verify(card.researcher_key, job_card_digest(card), card.signature)) {
    return make_error(ErrorCode::kBadSignature,
                      "job card signature does not verify against researcher key " +
                          short_id(card.researcher_key) +
                          "; the card was changed or damaged: ask the researcher "
                          "for a new one");
  }
  return ok_status();
}

Status save_job_card(const std::filesystem::path& path, const JobCard& card) {
  std::ostringstream text;
  text << kMagic << "\nendpoint " << card.endpoint << "\ncoordinator_key "
       << to_hex(card.coordinator_key) << "\njob_id " << card.job_id << "\nresearcher_key "
       << to_hex(card.researcher_key) << "\nmodel_digest " << to_hex(card.model_digest)
       << "\nterms_digest " << to_hex(card.terms_digest) << "\nsignature " << to_hex(card.signature)
       << "\n";
  std::ofstream out(path, std::ios::trunc);
  if (!out || !(out << text.str()) || !out.flush()) {
    return make_error(ErrorCode::kIo, "cannot write job card " + path.string());
  }
  return ok_status();
}

Result<JobCard> load_job_card(const std::filesystem::path& path) {
  const auto where = "job card " + path.string();
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, where + " cannot be opened");
  std::string line;
  if (!std::getline(in, line) || line != kMagic) {
    return make_error(ErrorCode::kCorrupt,
                      where + ": first line is not '" + std::string(kMagic) + "'");
  }
  std::map<std::string, std::string> fields;
  std::size_t bytes = line.size();
  while (std::getline(in, line)) {
    bytes += line.size() + 1;
    if (bytes > kMaxCardBytes)
      return make_error(ErrorCode::kLimitExceeded, where + " is larger than 16 KiB");
    if (line.empty()) continue;
    const auto space = line.find(' ');
    if (space == std::string::npos)
      return make_error(ErrorCode::kCorrupt, where + ": line '" + line + "' has no value");
    fields[line.substr(0, space)] = line.substr(space + 1);
  }
  const auto field = [&](const std::string& name) -> Result<std::string> {
    auto it = fields.find(name);
    if (it == fields.end())
      return make_error(ErrorCode::kCorrupt, where + " has no '" + name + "' line");
    return it->second;
  };
  const auto bytes_field = [&]<std::size_t N>(const std::string& name,
                                              std::array<std::uint8_t, N>& out) -> Status {
    FL_ASSIGN_OR_RETURN(auto hex, field(name));
    auto value = fixed_from_hex<N>(hex, where + " " + name);
    if (!value.ok()) return make_error(ErrorCode::kCorrupt, value.error().message);
    out = *value;
    return ok_status();
  };
  JobCard card;
  FL_ASSIGN_OR_RETURN(card.endpoint, field("endpoint"));
  FL_ASSIGN_OR_RETURN(card.job_id, field("job_id"));
  FL_RETURN_IF_ERROR(bytes_field("coordinator_key", card.coordinator_key));
  FL_RETURN_IF_ERROR(bytes_field("researcher_key", card.researcher_key));
  FL_RETURN_IF_ERROR(bytes_field("model_digest", card.model_digest));
  FL_RETURN_IF_ERROR(bytes_field("terms_digest", card.terms_digest));
  FL_RETURN_IF_ERROR(bytes_field("signature", card.signature));
  if (auto s = verify_job_card(card); !s.ok()) return with_context(s.error(), where);
  return card;
}

}  // namespace fl::common
