#include "fl/common/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "fl/common/json_fields.hpp"

namespace fl::common {
namespace {

using nlohmann::json;

const JsonFields kFields("cosigned checkpoint ");

Error bad(const std::string &what) { return kFields.bad(what); }

Error os_error(const std::string &what, const std::filesystem::path &path) {
  return make_error(ErrorCode::kIo,
                    "cannot " + what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes the descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

bool operator==(const Checkpoint &a, const Checkpoint &b) {
  return a.chain_id == b.chain_id && a.height == b.height && a.head_hash == b.head_hash &&
         a.tree_size == b.tree_size && a.time_ms == b.time_ms;
}

Digest checkpoint_digest(const Checkpoint &cp) {
  return Hasher()
      .text("fl-checkpoint-v1")
      .array(cp.chain_id)
      .u64(cp.height)
      .array(cp.head_hash)
      .u64(cp.tree_size)
      .u64(cp.time_ms)
      .finish();
}

Cosignature cosign_checkpoint(const Checkpoint &cp, const KeyPair &witness) {
  return {witness.public_key, sign(witness.secret_key, checkpoint_digest(cp))};
}

Status verify_cosigned(const CosignedCheckpoint &cp, std::span<const PublicKey> witnesses,
                       std::size_t k) {
  if (k == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "k must be at least 1: a checkpoint nobody vouches for proves nothing");
  }
  const Digest digest = checkpoint_digest(cp.checkpoint);
  std::vector<PublicKey> counted;
  std::string rejected;
  for (std::size_t i = 0; i < cp.cosignatures.size(); ++i) {
    const auto &c = cp.cosignatures[i];
    std::string why;
    if (std::find(witnesses.begin(), witnesses.end(), c.witness) == witnesses.end()) {
      why = "is not by an allowed witness";
    } else if (std::find(counted.begin(), counted.end(), c.witness) != counted.end()) {
      why = "is a second cosignature by the same witness";
    } else if (!verify(c.witness, digest, c.signature)) {
      why = "does not verify";
    } else {
      counted.push_back(c.witness);
      continue;
    }
    rejected += "; cosignature " + std::to_string(i + 1) + " by " + short_id(c.witness) + " " + why;
  }
  if (counted.size() >= k) return ok_status();
  return make_error(ErrorCode::kBadSignature,
                    "checkpoint at height " + std::to_string(cp.checkpoint.height) + " has " +
                        std::to_string(counted.size()) + " valid cosignature(s) of the " +
                        std::to_string(k) + " required" + rejected);
}

std::optional<std::string> checkpoint_conflict(const Checkpoint &held, const Checkpoint &later) {
  if (later.height < held.height) {
    return "head rewound from height " + std::to_string(held.height) + " to " +
           std::to_string(later.height);
  }
  if (later.height == held.height && later.head_hash != held.head_hash) {
    return "two heads at height " + std::to_string(held.height) + ": " +
           to_hex(held.head_hash).substr(0, 16) + " and " + to_hex(later.head_hash).substr(0, 16);
  }
  return std::nullopt;
}

std::string cosigned_checkpoint_to_json(const CosignedCheckpoint &cp, int indent) {
  const auto &c = cp.checkpoint;
  nlohmann::ordered_json sigs = nlohmann::ordered_json::array();
  for (const auto &s : cp.cosignatures) {
    nlohmann::ordered_json one = nlohmann::ordered_json::object();
    one["witness"] = to_hex(s.witness);
    one["signature"] = to_hex(s.signature);
    sigs.push_back(std::move(one));
  }
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["chain_id"] = to_hex(c.chain_id);
  j["height"] = c.height;
  j["head_hash"] = to_hex(c.head_hash);
  j["tree_size"] = c.tree_size;
  j["time_ms"] = c.time_ms;
  j["cosignatures"] = std::move(sigs);
  return j.dump(indent);
}

Result<CosignedCheckpoint> cosigned_checkpoint_from_json(std::string_view text) {
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return bad("is not JSON");
  if (!j.is_object()) return bad("is not a JSON object");
  CosignedCheckpoint out;
  auto &c = out.checkpoint;
  FL_ASSIGN_OR_RETURN(c.chain_id, kFields.hex<32>(j, "chain_id"));
  FL_ASSIGN_OR_RETURN(c.height, kFields.u64(j, "height"));
  FL_ASSIGN_OR_RETURN(c.head_hash, kFields.hex<32>(j, "head_hash"));
  FL_ASSIGN_OR_RETURN(c.tree_size, kFields.u64(j, "tree_size"));
  FL_ASSIGN_OR_RETURN(c.time_ms, kFields.u64(j, "time_ms"));
  FL_ASSIGN_OR_RETURN(const json *sigs, kFields.field(j, "cosignatures"));
  if (!sigs->is_array()) return bad("\"cosignatures\" is not a list");
  for (const auto &s : *sigs) {
    if (!s.is_object()) return bad("\"cosignatures\" holds something other than objects");
    Cosignature one;
    FL_ASSIGN_OR_RETURN(one.witness, kFields.hex<32>(s, "witness"));
    FL_ASSIGN_OR_RETURN(one.signature, kFields.hex<64>(s, "signature"));
    out.cosignatures.push_back(one);
  }
  return out;
}

Status write_file_durably(const std::filesystem::path &path, std::string_view bytes) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (f.fd < 0) return os_error("create", tmp);
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(f.fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return os_error("write", tmp);
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(f.fd) != 0) return os_error("fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return os_error("rename over", path);
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0 || ::fsync(d.fd) != 0) return os_error("fsync folder", dir);
  return ok_status();
}

}  // namespace fl::common

namespace fl::common {

Digest block_hash(const BlockHeader& h) {
  return Hasher()
      .text("fl-block-v1")
      .u64(h.height)
      .array(h.prev_hash)
      .array(h.merkle_root)
      .u64(h.time_ms)
      .u64(h.tx_count)
      .array(h.proposer)
      .finish();
}

Status verify_under_checkpoint(const Checkpoint& cp, std::span<const BlockHeader> headers, std::uint64_t height,
                               const Digest& hash, const Digest& merkle_root) {
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kCorrupt, "block " + std::to_string(height) + " is not under the checkpoint at height " +
                                               std::to_string(cp.height) + ": " + why);
  };
  if (height > cp.height) return bad("it is above it");
  if (headers.empty() || headers.back().height != cp.height || headers.front().height > height) {
    return bad("the headers given do not reach from it to the checkpoint");
  }
  // Heights are checked to run on by one below; a list with a gap (from a hostile coordinator)
  // is shorter than the heights it spans and must not be indexed past its end.
  const std::size_t first = static_cast<std::size_t>(height - headers.front().height);
  if (first >= headers.size()) return bad("the headers given skip its height");
  const auto& mine = headers[first];
  if (mine.height != height || block_hash(mine) != hash || mine.merkle_root != merkle_root) {
    return bad("its header does not hash to the block hash and Merkle root the receipt names");
  }
  Digest previous = hash;
  for (std::size_t i = first + 1; i < headers.size(); ++i) {
    const auto& h = headers[i];
    if (h.height != headers[i - 1].height + 1 || h.prev_hash != previous) {
      return bad("the header at height " + std::to_string(h.height) + " does not follow the one before it");
    }
    previous = block_hash(h);
  }
  if (previous != cp.head_hash) return bad("the headers do not end at the checkpoint's head hash");
  return ok_status();
}

}  // namespace fl::common
