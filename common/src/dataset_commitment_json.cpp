// The JSON form of an example proof (fl-worker prove-example writes it, fl-ledger
// check-example reads it).
#include <nlohmann/json.hpp>

#include "fl/common/dataset_commitment.hpp"

namespace fl::common {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kFormat = "fedledger-example-proof-v1";

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  Error bad(const std::string& what) const {
    return make_error(ErrorCode::kInvalidArgument, std::string(source_) + ": " + what);
  }
  Result<const json*> field(const json& j, const char* name) const {
    const auto it = j.find(name);
    if (it == j.end()) return bad(std::string("has no \"") + name + "\"");
    return &*it;
  }
  Result<Digest> digest(const json& j, const std::string& what) const {
    if (!j.is_string()) return bad(what + " is not a hex string");
    auto d = digest_from_hex(j.get<std::string>());
    if (!d.ok()) return bad(what + " is not 64 hex digits");
    return d;
  }
  Result<Digest> digest_field(const json& j, const char* name) const {
    FL_ASSIGN_OR_RETURN(const json* v, field(j, name));
    return digest(*v, std::string("\"") + name + "\"");
  }
  Result<std::uint64_t> u64_field(const json& j, const char* name) const {
    FL_ASSIGN_OR_RETURN(const json* v, field(j, name));
    if (!v->is_number_unsigned()) {
      return bad(std::string("\"") + name + "\" is not a non-negative integer");
    }
    return v->get<std::uint64_t>();
  }
  Result<LeafPath> leaf(const json& j, std::size_t n) const {
    const std::string at = "leaves[" + std::to_string(n) + "]";
    if (!j.is_object()) return bad(at + " is not an object");
    LeafPath l;
    FL_ASSIGN_OR_RETURN(l.index, u64_field(j, "index"));
    FL_ASSIGN_OR_RETURN(l.leaf, digest_field(j, "leaf"));
    FL_ASSIGN_OR_RETURN(const json* path, field(j, "path"));
    if (!path->is_array()) return bad(at + ".path is not a list of hex digests");
    for (std::size_t i = 0; i < path->size(); ++i) {
      FL_ASSIGN_OR_RETURN(auto d, digest((*path)[i], at + ".path[" + std::to_string(i) + "]"));
      l.path.push_back(d);
    }
    return l;
  }

 private:
  std::string_view source_;
};

}  // namespace

std::string example_proof_to_json(const ExampleProof& proof) {
  ordered_json leaves = ordered_json::array();
  for (const auto& l : proof.leaves) {
    ordered_json path = ordered_json::array();
    for (const auto& d : l.path) path.push_back(to_hex(d));
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
  const Reader r(source);
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return r.bad("is not a JSON object");
  FL_ASSIGN_OR_RETURN(const json* format, r.field(j, "format"));
  if (!format->is_string() || format->get<std::string>() != kFormat) {
    return r.bad("\"format\" is not \"" + std::string(kFormat) + "\"");
  }
  ExampleProof proof;
  FL_ASSIGN_OR_RETURN(const json* claim, r.field(j, "claim"));
  const std::string claim_text = claim->is_string() ? claim->get<std::string>() : "";
  if (claim_text == to_string(Membership::kIncluded)) {
    proof.claim = Membership::kIncluded;
  } else if (claim_text == to_string(Membership::kNotIncluded)) {
    proof.claim = Membership::kNotIncluded;
  } else {
    return r.bad("\"claim\" is neither \"included\" nor \"not included\"");
  }
  FL_ASSIGN_OR_RETURN(proof.example, r.digest_field(j, "example"));
  FL_ASSIGN_OR_RETURN(proof.tree_size, r.u64_field(j, "tree_size"));
  FL_ASSIGN_OR_RETURN(proof.root, r.digest_field(j, "root"));
  FL_ASSIGN_OR_RETURN(const json* leaves, r.field(j, "leaves"));
  if (!leaves->is_array()) return r.bad("\"leaves\" is not a list");
  for (std::size_t i = 0; i < leaves->size(); ++i) {
    FL_ASSIGN_OR_RETURN(auto l, r.leaf((*leaves)[i], i));
    proof.leaves.push_back(std::move(l));
  }
  return proof;
}

}  // namespace fl::common
