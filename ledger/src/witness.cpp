// The witness's view is one JSON file, DIR/witness.json:
//   {"format":"fedledger-witness-v1","witness":<hex key>,"cosigned":<cosigned
//   checkpoint|null>,
//    "block_hashes":[<hex>, ...]}  (the hash of every block up to the cosigned
//    height)
// DIR/lock is held (flock) from reading the view to writing the new one, so two
// processes sharing a view cannot both cosign from the same old one.
#include "fl/ledger/witness.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "fedledger-witness-v1";

struct View {
  common::PublicKey witness{};
  std::optional<common::CosignedCheckpoint> cosigned;
  std::vector<common::Digest> block_hashes;
};

std::filesystem::path view_file(const std::filesystem::path& dir) { return dir / "witness.json"; }

std::string view_to_json(const View& v) {
  json hashes = json::array();
  for (const auto& h : v.block_hashes) hashes.push_back(to_hex(h));
  json j{{"format", kFormat},
         {"witness", to_hex(v.witness)},
         {"cosigned", v.cosigned ? json::parse(common::cosigned_checkpoint_to_json(*v.cosigned))
                                 : json(nullptr)},
         {"block_hashes", hashes}};
  return j.dump(1) + "\n";
}

Result<View> read_view(const std::filesystem::path& dir) {
  const auto file = view_file(dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return make_error(ErrorCode::kNotFound, "no witness view in " + dir.string() +
                                                " (create one with `fl-ledger witness init`)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, "cannot read " + file.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json j = json::parse(text, nullptr, false);
  auto corrupt = [&](const std::string& what) {
    return make_error(ErrorCode::kCorrupt, file.string() + ": " + what);
  };
  if (!j.is_object() || !j.contains("format") || j["format"] != kFormat)
    return corrupt("not a witness view");
  View v;
  if (!j.contains("witness") || !j["witness"].is_string()) return corrupt("no witness key");
  auto key = common::public_key_from_hex(j["witness"].get<std::string>());
  if (!key.ok()) return corrupt(key.error().message);
  v.witness = *key;
  if (j.contains("cosigned") && !j["cosigned"].is_null()) {
    auto cp = common::cosigned_checkpoint_from_json(j["cosigned"].dump());
    if (!cp.ok()) return corrupt(cp.error().message);
    v.cosigned = std::move(cp).value();
  }
  if (!j.contains("block_hashes") || !j["block_hashes"].is_array())
    return corrupt("no block_hashes");
  for (const auto& h : j["block_hashes"]) {
    auto d = h.is_string() ? common::digest_from_hex(h.get<std::string>())
                           : Result<common::Digest>(make_error(ErrorCode::kCorrupt, "not hex"));
    if (!d.ok()) return corrupt("block_hashes: " + d.error().message);
    v.block_hashes.push_back(*d);
  }
  const std::size_t expected = v.cosigned ? v.cosigned->checkpoint.height + 1 : 0;
  if (v.block_hashes.size() != expected ||
      (v.cosigned && v.block_hashes.back() != v.cosigned->checkpoint.head_hash)) {
    return corrupt("block_hashes do not end at the cosigned head");
  }
  return v;
}

// An exclusive flock on DIR/lock for as long as it lives.
class ViewLock {
 public:
  static Result<ViewLock> take(const std::filesystem::path& dir) {
    const auto path = dir / "lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
      const std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return make_error(ErrorCode::kIo, "cannot lock " + path.string() + ": " + why);
    }
    return ViewLock(fd);
  }
  ViewLock(ViewLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ViewLock& operator=(ViewLock&&) = delete;
  ~ViewLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit ViewLock(int fd) : fd_(fd) {}
  int fd_;
};

std::string hex16(const common::Digest& d) { return to_hex(d).substr(0, 16); }

// The store's chain against the view; nullopt when it extends it.
std::optional<CosignOutcome> find_conflict(const View& view, const VerifiedChain& chain) {
  if (!view.cosigned) return std::nullopt;
  const auto& held = view.cosigned->checkpoint;
  const std::uint64_t head = chain.blocks.size() - 1;
  std::optional<std::uint64_t> rewritten;
  for (std::uint64_t h = 0; h < view.block_hashes.size() && h <= head; ++h) {
    if (view.block_hashes[h] != chain.blocks[h].hash) {
      rewritten = h;
      break;
    }
  }
  if (!rewritten && head >= held.height) return std::nullopt;
  std::string why;
  if (rewritten) {
    why = "block " + std::to_string(*rewritten) + " was rewritten: this witness saw " +
          hex16(view.block_hashes[*rewritten]) + " at height " + std::to_string(*rewritten) +
          ", the store holds " + hex16(chain.blocks[*rewritten].hash);
  }
  if (head < held.height) {
    why += std::string(why.empty() ? "" : "; ") + "the head went back from height " +
           std::to_string(held.height) + ", which this witness cosigned, to height " +
           std::to_string(head);
  }
  CosignOutcome out;
  out.checkpoint = chain.checkpoint();
  out.verdict = make_error(ErrorCode::kPrecondition, "refused to cosign: " + why);
  const common::Checkpoint other = chain.checkpoint_at(std::min(head, held.height));
  // Another genesis is another chain altogether: refused, but nothing the two could prove.
  auto conflict = common::checkpoint_conflict(held, other);
  if (conflict && other.chain_id == held.chain_id) {
    out.proof = MisbehaviourProof{*view.cosigned, other, chain.blocks[other.height], *conflict};
  }
  return out;
}

}  // namespace

Status Witness::init(const std::filesystem::path& dir, const common::PublicKey& witness) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message());
  FL_ASSIGN_OR_RETURN(auto lock, ViewLock::take(dir));
  if (std::filesystem::exists(view_file(dir), ec)) {
    return make_error(ErrorCode::kAlreadyExists,
                      dir.string() + " already holds a witness view; it is never reset");
  }
  return common::write_file_durably(view_file(dir), view_to_json(View{witness, {}, {}}));
}

Result<Witness> Witness::open(const std::filesystem::path& dir, common::KeyPair key) {
  FL_ASSIGN_OR_RETURN(auto view, read_view(dir));
  if (view.witness != key.public_key) {
    return make_error(ErrorCode::kPrecondition,
                      "the witness view in " + dir.string() + " belongs to " +
                          common::short_id(view.witness) + ", not to key " +
                          common::short_id(key.public_key));
  }
  return Witness(dir, std::move(key));
}

Result<std::optional<common::CosignedCheckpoint>> Witness::last_cosigned() const {
  FL_ASSIGN_OR_RETURN(auto view, read_view(dir_));
  return view.cosigned;
}

Result<CosignOutcome> Witness::cosign(const BlockStore& store) {
  FL_ASSIGN_OR_RETURN(auto lock, ViewLock::take(dir_));
  FL_ASSIGN_OR_RETURN(auto view, read_view(dir_));
  if (view.witness != key_.public_key)
    return make_error(ErrorCode::kPrecondition, "the witness view belongs to another key");
  CosignOutcome out;
  auto chain = read_verified_chain(store);
  if (!chain.ok()) {
    out.verdict = with_context(chain.error(), "refused to cosign");
    return out;
  }
  if (auto conflict = find_conflict(view, *chain)) return std::move(*conflict);
  const common::Checkpoint cp = chain->checkpoint();
  out.checkpoint = cp;
  common::CosignedCheckpoint cosigned{cp, {common::cosign_checkpoint(cp, key_)}};
  View next{key_.public_key, cosigned, {}};
  for (const auto& b : chain->blocks) next.block_hashes.push_back(b.hash);
  // The view reaches the disk before anyone sees the signature.
  FL_RETURN_IF_ERROR(common::write_file_durably(view_file(dir_), view_to_json(next)));
  out.cosigned = std::move(cosigned);
  return out;
}

}  // namespace fl::ledger
