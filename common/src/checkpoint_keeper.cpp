#include "fl/common/checkpoint_keeper.hpp"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

namespace fl::common {

Status verify_checkpoint_evidence(const CheckpointEvidence& e, std::span<const PublicKey> witnesses,
                                  std::size_t k) {
  if (auto st = verify_cosigned(e.held, witnesses, k); !st.ok())
    return with_context(st.error(), "held checkpoint");
  if (auto st = verify_cosigned(e.offered, witnesses, k); !st.ok())
    return with_context(st.error(), "offered checkpoint");
  if (e.held.checkpoint.chain_id != e.offered.checkpoint.chain_id) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the two checkpoints are of different chains, so they do not conflict");
  }
  if (!checkpoint_conflict(e.held.checkpoint, e.offered.checkpoint)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the offered checkpoint (height " +
                          std::to_string(e.offered.checkpoint.height) +
                          ") does not conflict with the held one (height " +
                          std::to_string(e.held.checkpoint.height) + ")");
  }
  return ok_status();
}

std::string checkpoint_evidence_to_json(const CheckpointEvidence& e) {
  nlohmann::json j;
  j["conflict"] = e.conflict;
  j["held"] = nlohmann::json::parse(cosigned_checkpoint_to_json(e.held));
  j["offered"] = nlohmann::json::parse(cosigned_checkpoint_to_json(e.offered));
  return j.dump(2) + "\n";
}

Result<CheckpointEvidence> checkpoint_evidence_from_json(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("held") || !j.contains("offered")) {
    return make_error(ErrorCode::kInvalidArgument, "checkpoint evidence needs \"held\" and \"offered\"");
  }
  CheckpointEvidence e;
  auto held = cosigned_checkpoint_from_json(j["held"].dump());
  if (!held.ok()) return with_context(held.error(), "held");
  auto offered = cosigned_checkpoint_from_json(j["offered"].dump());
  if (!offered.ok()) return with_context(offered.error(), "offered");
  e.held = std::move(held).value();
  e.offered = std::move(offered).value();
  e.conflict = checkpoint_conflict(e.held.checkpoint, e.offered.checkpoint).value_or("");
  return e;
}

Result<CheckpointKeeper> CheckpointKeeper::open(const std::filesystem::path& file,
                                                std::vector<PublicKey> witnesses, std::size_t k) {
  CheckpointKeeper keeper(file, std::move(witnesses), k);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return keeper;
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, "cannot read checkpoint file " + file.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto held = cosigned_checkpoint_from_json(text);
  if (!held.ok()) return with_context(held.error(), file.string());
  if (auto st = verify_cosigned(*held, keeper.witnesses_, k); !st.ok())
    return with_context(st.error(), file.string());
  keeper.latest_ = std::move(held).value();
  return keeper;
}

Result<CheckpointOffer> CheckpointKeeper::offer(const CosignedCheckpoint& cp) {
  FL_RETURN_IF_ERROR(verify_cosigned(cp, witnesses_, k_));
  CheckpointOffer outcome;
  if (latest_) {
    const auto& held = latest_->checkpoint;
    if (held.chain_id != cp.checkpoint.chain_id) {
      return make_error(ErrorCode::kPrecondition,
                        "checkpoint of chain " + to_hex(cp.checkpoint.chain_id).substr(0, 16) +
                            ", but " + file_.string() + " follows chain " +
                            to_hex(held.chain_id).substr(0, 16));
    }
    if (auto conflict = checkpoint_conflict(held, cp.checkpoint)) {
      outcome.misbehaviour = CheckpointEvidence{*latest_, cp, *conflict};
      return outcome;
    }
    if (held.height == cp.checkpoint.height) return outcome;  // the same head
  }
  FL_RETURN_IF_ERROR(write_file_durably(file_, cosigned_checkpoint_to_json(cp, 2) + "\n"));
  latest_ = cp;
  outcome.adopted = true;
  return outcome;
}

}  // namespace fl::common
