#include "fl/common/receipt_json.hpp"

#include <nlohmann/json.hpp>

namespace fl::common {
namespace {

using nlohmann::json;

Error bad(const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, "receipt " + what);
}

Result<const json*> field(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) {
    return bad(std::string("has no \"") + name + "\"" +
               (std::string_view(name) == "proof" || std::string_view(name) == "leaf_index"
                    ? " (written by an older fl-worker without the Merkle path; use `fl-ledger "
                      "proof` instead)"
                    : ""));
  }
  return &*it;
}

Result<Digest> digest_field(const json& j, const char* name) {
  FL_ASSIGN_OR_RETURN(const json* v, field(j, name));
  if (!v->is_string()) return bad(std::string("\"") + name + "\" is not a hex string");
  auto d = digest_from_hex(v->get<std::string>());
  if (!d.ok()) return bad(std::string("\"") + name + "\" is not 64 hex digits");
  return d;
}

Result<std::uint64_t> u64_field(const json& j, const char* name) {
  FL_ASSIGN_OR_RETURN(const json* v, field(j, name));
  if (!v->is_number_unsigned())
    return bad(std::string("\"") + name + "\" is not a non-negative integer");
  return v->get<std::uint64_t>();
}

}  // namespace

std::string receipt_to_json_line(std::string_view job_id, std::uint64_t round, const Receipt& r,
                                 bool proof_verified) {
  nlohmann::ordered_json proof = nlohmann::ordered_json::array();
  for (const auto& d : r.proof) proof.push_back(to_hex(d));
  // Fields in the documented order, so a person reading the file sees job and round first.
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["job_id"] = std::string(job_id);
  j["round"] = round;
  j["update"] = to_hex(r.update_digest);
  j["reward"] = r.reward;
  j["tx_hash"] = to_hex(r.tx_hash);
  j["block_height"] = r.block_height;
  j["block_hash"] = to_hex(r.block_hash);
  j["merkle_root"] = to_hex(r.merkle_root);
  j["leaf_index"] = r.leaf_index;
  j["tree_size"] = r.tree_size;
  j["proof"] = std::move(proof);
  j["proof_verified"] = proof_verified;
  return j.dump();
}

Result<ReceiptLine> receipt_from_json_line(std::string_view line) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return bad("line is not JSON");
  if (!j.is_object()) return bad("line is not a JSON object");
  ReceiptLine out;
  FL_ASSIGN_OR_RETURN(const json* job, field(j, "job_id"));
  if (!job->is_string()) return bad("\"job_id\" is not a string");
  out.job_id = job->get<std::string>();
  FL_ASSIGN_OR_RETURN(out.round, u64_field(j, "round"));
  auto& r = out.receipt;
  FL_ASSIGN_OR_RETURN(r.update_digest, digest_field(j, "update"));
  FL_ASSIGN_OR_RETURN(r.reward, u64_field(j, "reward"));
  FL_ASSIGN_OR_RETURN(r.tx_hash, digest_field(j, "tx_hash"));
  FL_ASSIGN_OR_RETURN(r.block_height, u64_field(j, "block_height"));
  FL_ASSIGN_OR_RETURN(r.block_hash, digest_field(j, "block_hash"));
  FL_ASSIGN_OR_RETURN(r.merkle_root, digest_field(j, "merkle_root"));
  FL_ASSIGN_OR_RETURN(r.leaf_index, u64_field(j, "leaf_index"));
  FL_ASSIGN_OR_RETURN(r.tree_size, u64_field(j, "tree_size"));
  FL_ASSIGN_OR_RETURN(const json* proof, field(j, "proof"));
  if (!proof->is_array()) return bad("\"proof\" is not a list of hex digests");
  for (const auto& h : *proof) {
    if (!h.is_string()) return bad("\"proof\" holds something other than hex digests");
    auto d = digest_from_hex(h.get<std::string>());
    if (!d.ok()) return bad("\"proof\" holds a digest that is not 64 hex digits");
    r.proof.push_back(*d);
  }
  FL_ASSIGN_OR_RETURN(const json* verified, field(j, "proof_verified"));
  if (!verified->is_boolean()) return bad("\"proof_verified\" is not true or false");
  out.proof_verified = verified->get<bool>();
  return out;
}

}  // namespace fl::common
