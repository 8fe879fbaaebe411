#include "fl/ledger/consortium.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "fl/common/config_table.hpp"
#include "fl/common/json_fields.hpp"

namespace fl::ledger {
namespace {

using common::PublicKey;
using nlohmann::json;

bool listed(const std::vector<PublicKey>& keys, const PublicKey& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::optional<std::string> list_problem(const std::vector<PublicKey>& keys, const char* name) {
  if (keys.size() > kMaxConsortiumKeys) {
    return std::string(name) + " lists " + std::to_string(keys.size()) + " keys, more than " +
           std::to_string(kMaxConsortiumKeys);
  }
  std::set<PublicKey> seen;
  for (const auto& k : keys) {
    if (!seen.insert(k).second) return std::string(name) + " lists " + common::short_id(k) + " twice";
  }
  return std::nullopt;
}

common::Hasher& hash_keys(common::Hasher& h, const std::vector<PublicKey>& keys) {
  h.u64(keys.size());
  for (const auto& k : keys) h.array(k);
  return h;
}

json keys_json(const std::vector<PublicKey>& keys) {
  json out = json::array();
  for (const auto& k : keys) out.push_back(common::to_hex(k));
  return out;
}

Result<std::vector<PublicKey>> read_key_list(const common::ConfigTable& t, const char* name, bool required,
                                             const std::filesystem::path& base_dir) {
  std::optional<std::vector<std::string>> fallback;
  if (!required) fallback.emplace();
  FL_ASSIGN_OR_RETURN(auto texts, t.text_list(name, fallback));
  std::vector<PublicKey> keys;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto key = common::public_key_from_text(texts[i], base_dir);
    if (!key.ok()) return with_context(key.error(), t.where(name) + "[" + std::to_string(i) + "]");
    keys.push_back(*key);
  }
  return keys;
}

}  // namespace

bool Consortium::is_member(const PublicKey& key) const { return listed(members, key); }
bool Consortium::is_witness(const PublicKey& key) const { return listed(witnesses, key); }
bool Consortium::is_minter(const PublicKey& key) const { return listed(minters, key); }

Consortium consortium_of_one(const PublicKey& founder) { return Consortium{0, 1, {founder}, {}, {founder}}; }

std::optional<std::string> consortium_problem(const Consortium& c) {
  if (c.members.empty()) return "the consortium has no members";
  for (auto [keys, name] : {std::pair{&c.members, "members"}, {&c.witnesses, "witnesses"}, {&c.minters, "minters"}}) {
    if (auto p = list_problem(*keys, name)) return p;
  }
  if (c.quorum == 0) return "the quorum is 0 (it must be at least 1)";
  if (c.quorum > c.members.size()) {
    return "the quorum " + std::to_string(c.quorum) + " is more than the " + std::to_string(c.members.size()) +
           " members, so no change could ever be approved";
  }
  if (!c.witnesses.empty() && c.quorum > c.witnesses.size()) {
    return "the quorum " + std::to_string(c.quorum) + " is more than the " + std::to_string(c.witnesses.size()) +
           " witnesses, so no checkpoint could ever be final";
  }
  return std::nullopt;
}

common::Digest consortium_digest(const Consortium& c) {
  common::Hasher h;
  h.text("fl-consortium-v1").u64(c.epoch).u64(c.quorum);
  hash_keys(h, c.members);
  hash_keys(h, c.witnesses);
  hash_keys(h, c.minters);
  return h.finish();
}

common::Digest consortium_change_digest(const Consortium& current, const Consortium& next) {
  return common::Hasher()
      .text("fl-consortium-change-v1")
      .array(consortium_digest(current))
      .array(consortium_digest(next))
      .finish();
}

ConsortiumApproval approve_consortium_change(const Consortium& current, const Consortium& next,
                                             const common::KeyPair& member) {
  return {member.public_key, common::sign(member.secret_key, consortium_change_digest(current, next))};
}

Result<Consortium> load_consortium_file(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto t, common::ConfigTable::parse_file(path));
  const auto base = path.parent_path();
  Consortium c;
  FL_ASSIGN_OR_RETURN(c.members, read_key_list(t, "members", true, base));
  FL_ASSIGN_OR_RETURN(c.witnesses, read_key_list(t, "witnesses", false, base));
  FL_ASSIGN_OR_RETURN(c.minters, read_key_list(t, "minters", false, base));
  FL_ASSIGN_OR_RETURN(auto quorum, t.integer("quorum", 1, 1, static_cast<std::int64_t>(kMaxConsortiumKeys)));
  c.quorum = static_cast<std::uint64_t>(quorum);
  FL_RETURN_IF_ERROR(t.reject_unknown_keys());
  if (auto problem = consortium_problem(c)) {
    return make_error(ErrorCode::kInvalidArgument, path.string() + ": " + *problem);
  }
  return c;
}

json consortium_json(const Consortium& c) {
  return {{"epoch", c.epoch},
          {"quorum", c.quorum},
          {"members", keys_json(c.members)},
          {"witnesses", keys_json(c.witnesses)},
          {"minters", keys_json(c.minters)}};
}

std::string describe_consortium(const Consortium& c) {
  auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  return "epoch " + std::to_string(c.epoch) + ": " + count(c.members.size(), "member", "members") + ", " +
         count(c.witnesses.size(), "witness", "witnesses") + ", quorum " + std::to_string(c.quorum) + ", " +
         count(c.minters.size(), "minter", "minters");
}

std::string consortium_change_json(const ConsortiumChange& change) {
  json approvals = json::array();
  for (const auto& a : change.approvals) {
    approvals.push_back({{"member", common::to_hex(a.member)}, {"signature", common::to_hex(a.signature)}});
  }
  return json{{"format", "fedledger-consortium-change-v1"},
              {"current", common::to_hex(change.current)},
              {"next", consortium_json(change.next)},
              {"approvals", approvals}}
             .dump(2) +
         "\n";
}

Result<ConsortiumChange> parse_consortium_change(const std::string& text) {
  const auto j = json::parse(text, nullptr, false);
  const common::JsonFields f("consortium change: ");
  if (j.is_discarded() || !j.is_object()) return f.bad("is not a JSON object");
  FL_ASSIGN_OR_RETURN(auto format, f.text(j, "format"));
  if (format != "fedledger-consortium-change-v1") return f.bad("has format \"" + format + "\", not fedledger-consortium-change-v1");
  ConsortiumChange change;
  FL_ASSIGN_OR_RETURN(change.current, f.digest(j, "current"));
  FL_ASSIGN_OR_RETURN(const json* next, f.field(j, "next"));
  if (!next->is_object()) return f.bad("\"next\" is not an object");
  const common::JsonFields nf("consortium change: next ");
  auto key = [&nf](const json& v, const std::string& what) { return nf.hex_value<32>(v, what); };
  FL_ASSIGN_OR_RETURN(change.next.epoch, nf.u64(*next, "epoch"));
  FL_ASSIGN_OR_RETURN(change.next.quorum, nf.u64(*next, "quorum"));
  FL_ASSIGN_OR_RETURN(change.next.members, nf.list<PublicKey>(*next, "members", key));
  FL_ASSIGN_OR_RETURN(change.next.witnesses, nf.list<PublicKey>(*next, "witnesses", key));
  FL_ASSIGN_OR_RETURN(change.next.minters, nf.list<PublicKey>(*next, "minters", key));
  FL_ASSIGN_OR_RETURN(change.approvals,
                      f.list<ConsortiumApproval>(j, "approvals", [&f](const json& v, const std::string& what)
                                                                     -> Result<ConsortiumApproval> {
                        if (!v.is_object()) return f.bad(what + " is not an object");
                        ConsortiumApproval a;
                        FL_ASSIGN_OR_RETURN(a.member, f.hex<32>(v, "member"));
                        FL_ASSIGN_OR_RETURN(a.signature, f.hex<64>(v, "signature"));
                        return a;
                      }));
  if (auto problem = consortium_problem(change.next)) return f.bad("proposes a consortium that is not valid: " + *problem);
  return change;
}

}  // namespace fl::ledger
