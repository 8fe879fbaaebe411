#include "fl/common/receipt_json.hpp"

#include <nlohmann/json.hpp>

#include "fl/common/json_fields.hpp"

namespace fl::common {
namespace {

using nlohmann::json;

const JsonFields kFields("receipt ");

Error bad(const std::string &what) { return kFields.bad(what); }

// A receipt line written by an older fl-worker has no Merkle path: say so.
Status has_merkle_path(const json &j) {
  for (const char *name : {"leaf_index", "proof"}) {
    if (!j.contains(name)) {
      return bad(std::string("has no \"") + name +
                 "\" (written by an older fl-worker without the Merkle path; "
                 "use `fl-ledger proof` instead)");
    }
  }
  return Status{};
}

}  // namespace

std::string receipt_to_json_line(std::string_view job_id, std::uint64_t round, const Receipt &r,
                                 bool proof_verified) {
  nlohmann::ordered_json proof = nlohmann::ordered_json::array();
  for (const auto &d : r.proof) proof.push_back(to_hex(d));
  // Fields in the documented order, so a person reading the file sees job and
  // round first.
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
  if (r.edge) {
    // The edge coordinator's signed partial result, whole (hex of its wire encoding: what
    // verify_edge_link() re-checks), and the path of this update to its inputs root.
    const auto& e = *r.edge;
    nlohmann::ordered_json path = nlohmann::ordered_json::array();
    for (const auto &d : e.proof) path.push_back(to_hex(d));
    const auto header = encode(e.edge_update);
    nlohmann::ordered_json edge = nlohmann::ordered_json::object();
    edge["key"] = to_hex(e.edge_update.worker_key);
    edge["partial_result"] = to_hex(recorded_update(r));
    edge["inputs_root"] = to_hex(e.edge_update.inputs_root);
    edge["inputs"] = e.edge_update.inputs;
    edge["leaf_index"] = e.leaf_index;
    edge["proof"] = std::move(path);
    edge["header"] = to_hex(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t *>(header.data()),
                                                          header.size()));
    j["edge"] = std::move(edge);
  }
  j["proof_verified"] = proof_verified;
  return j.dump();
}

std::string settled_receipt_to_json_line(std::string_view job_id, std::uint64_t round, const Receipt &r,
                                         const CosignedCheckpoint &cp) {
  nlohmann::ordered_json witnesses = nlohmann::ordered_json::array();
  for (const auto &c : cp.cosignatures) witnesses.push_back(to_hex(c.witness));
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["job_id"] = std::string(job_id);
  j["round"] = round;
  j["update"] = to_hex(r.update_digest);
  j["block_height"] = r.block_height;
  j["block_hash"] = to_hex(r.block_hash);
  j["final"] = {{"height", cp.checkpoint.height}, {"head_hash", to_hex(cp.checkpoint.head_hash)},
                {"witnesses", std::move(witnesses)}};
  return j.dump();
}

Result<ReceiptLine> receipt_from_json_line(std::string_view line) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return bad("line is not JSON");
  if (!j.is_object()) return bad("line is not a JSON object");
  ReceiptLine out;
  FL_ASSIGN_OR_RETURN(out.job_id, kFields.text(j, "job_id"));
  FL_ASSIGN_OR_RETURN(out.round, kFields.u64(j, "round"));
  auto &r = out.receipt;
  FL_ASSIGN_OR_RETURN(r.update_digest, kFields.digest(j, "update"));
  FL_ASSIGN_OR_RETURN(r.reward, kFields.u64(j, "reward"));
  FL_ASSIGN_OR_RETURN(r.tx_hash, kFields.digest(j, "tx_hash"));
  FL_ASSIGN_OR_RETURN(r.block_height, kFields.u64(j, "block_height"));
  FL_ASSIGN_OR_RETURN(r.block_hash, kFields.digest(j, "block_hash"));
  FL_ASSIGN_OR_RETURN(r.merkle_root, kFields.digest(j, "merkle_root"));
  FL_RETURN_IF_ERROR(has_merkle_path(j));
  FL_ASSIGN_OR_RETURN(r.leaf_index, kFields.u64(j, "leaf_index"));
  FL_ASSIGN_OR_RETURN(r.tree_size, kFields.u64(j, "tree_size"));
  FL_ASSIGN_OR_RETURN(r.proof,
                      kFields.list<Digest>(j, "proof", [](const json &v, const std::string &what) {
                        return kFields.hex_value<32>(v, what);
                      }));
  if (j.contains("edge")) {
    const auto &e = j["edge"];
    if (!e.is_object()) return bad("\"edge\" is not an object");
    const JsonFields edge_fields("receipt edge ");
    FL_ASSIGN_OR_RETURN(auto header_hex, edge_fields.text(e, "header"));
    auto bytes = from_hex(header_hex);
    if (!bytes.ok()) return with_context(bytes.error(), "receipt edge \"header\"");
    auto header = decode<UpdateHeader>(*bytes);
    if (!header.ok()) return with_context(header.error(), "receipt edge \"header\"");
    auto &link = r.edge.emplace();
    link.edge_update = std::move(header).value();
    FL_ASSIGN_OR_RETURN(link.leaf_index, edge_fields.u64(e, "leaf_index"));
    FL_ASSIGN_OR_RETURN(link.proof,
                        edge_fields.list<Digest>(e, "proof", [&](const json &v, const std::string &what) {
                          return edge_fields.hex_value<32>(v, what);
                        }));
  }
  FL_ASSIGN_OR_RETURN(out.proof_verified, kFields.boolean(j, "proof_verified"));
  return out;
}

}  // namespace fl::common
