// The JSON form of an example proof (fl-worker prove-example writes it,
// fl-ledger check-example reads it).
#include <nlohmann/json.hpp>

#include "fl/common/dataset_commitment.hpp"
#include "fl/common/json_fields.hpp"

namespace fl::common {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kFormat = "fedledger-example-proof-v1";

Result<Digest> digest_item(const JsonFields &r, const json &v, const std::string &what) {
  return r.hex_value<32>(v, what);
}

Result<LeafPath> leaf(const JsonFields &r, const json &j, const std::string &at) {
  if (!j.is_object()) return r.bad(at + " is not an object");
  LeafPath l;
  FL_ASSIGN_OR_RETURN(l.index, r.u64(j, "index"));
  FL_ASSIGN_OR_RETURN(l.leaf, r.digest(j, "leaf"));
  FL_ASSIGN_OR_RETURN(l.path,
                      r.list<Digest>(j, "path", [&](const json &v, const std::string &what) {
                        return digest_item(r, v, at + "." + what);
                      }));
  return l;
}

}  // namespace

std::string example_proof_to_json(const ExampleProof &proof) {
  ordered_json leaves = ordered_json::array();
  for (const auto &l : proof.leaves) {
    ordered_json path = ordered_json::array();
    for (const auto &d : l.path) path.push_back(to_hex(d));
    leaves.push_back({{"index", l.index}, {"leaf", to_hex(l.leaf)}, {"path", std::move(path)}});
  }
  ordered_json j = ordered_json::object();
  j["format"] = std::string(kFormat);
  j["claim"] = std::string(to_string(proof.claim));
  j["example"] = to_hex(proof.example);
  j["tree_size"] = proof.tree_size;
  j["root"] = to_hex(proof.root);
  j["commitment"] = to_string(DatasetCommitment{proof.tree_size, proof.root});
  j["leaves"] = std::move(leaves);
  return j.dump(2) + "\n";
}

Result<ExampleProof> example_proof_from_json(std::string_view text, std::string_view source) {
  const JsonFields r(std::string(source) + ": ");
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return r.bad("is not a JSON object");
  FL_ASSIGN_OR_RETURN(const json *format, r.field(j, "format"));
  if (!format->is_string() || format->get<std::string>() != kFormat) {
    return r.bad("\"format\" is not \"" + std::string(kFormat) + "\"");
  }
  ExampleProof proof;
  FL_ASSIGN_OR_RETURN(const json *claim, r.field(j, "claim"));
  const std::string claim_text = claim->is_string() ? claim->get<std::string>() : "";
  if (claim_text == to_string(Membership::kIncluded)) {
    proof.claim = Membership::kIncluded;
  } else if (claim_text == to_string(Membership::kNotIncluded)) {
    proof.claim = Membership::kNotIncluded;
  } else {
    return r.bad("\"claim\" is neither \"included\" nor \"not included\"");
  }
  FL_ASSIGN_OR_RETURN(proof.example, r.digest(j, "example"));
  FL_ASSIGN_OR_RETURN(proof.tree_size, r.u64(j, "tree_size"));
  FL_ASSIGN_OR_RETURN(proof.root, r.digest(j, "root"));
  FL_ASSIGN_OR_RETURN(proof.leaves,
                      r.list<LeafPath>(j, "leaves", [&](const json &v, const std::string &at) {
                        return leaf(r, v, at);
                      }));
  return proof;
}

}  // namespace fl::common
