// The federation's consortium: the members (coordinator keys) that may propose blocks, record
// rounds and pay from escrows; the witnesses whose cosignatures make a checkpoint final; the
// quorum k (approvals a membership change needs, cosignatures a final checkpoint needs); and
// the minters, the only keys that may create tokens (issues and reward mints).
//
// The genesis block names it: either with one consortium transaction (epoch 0) issued by the
// block's proposer, or, as ledgers written before consortia, with no transaction at all, which
// names a consortium of one (its proposer: member and minter, quorum 1, no witnesses). A later
// consortium transaction (epoch + 1) replaces it when at least `quorum` members of the current
// consortium approved the new one (signatures over consortium_change_digest()).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::ledger {

struct Consortium {
  std::uint64_t epoch = 0;  // 0 at genesis, +1 with each change
  std::uint64_t quorum = 1;
  std::vector<common::PublicKey> members;
  std::vector<common::PublicKey> witnesses;
  std::vector<common::PublicKey> minters;

  bool is_member(const common::PublicKey& key) const;
  bool is_witness(const common::PublicKey& key) const;
  bool is_minter(const common::PublicKey& key) const;
  bool operator==(const Consortium&) const = default;
};

// A member's approval of a membership change.
struct ConsortiumApproval {
  common::PublicKey member{};
  common::Signature signature{};
  bool operator==(const ConsortiumApproval&) const = default;
};

// The consortium a ledger without a consortium transaction has: `founder` alone.
Consortium consortium_of_one(const common::PublicKey& founder);

// What is wrong with `c` on its own (empty members, a key listed twice in one list, a quorum
// of 0 or above the members or the witnesses there are, more than kMaxConsortiumKeys keys in a
// list), or nullopt.
inline constexpr std::size_t kMaxConsortiumKeys = 1000;
std::optional<std::string> consortium_problem(const Consortium& c);

common::Digest consortium_digest(const Consortium& c);
// What each approving member signs: the current consortium's digest and the proposed one.
common::Digest consortium_change_digest(const Consortium& current, const Consortium& next);
ConsortiumApproval approve_consortium_change(const Consortium& current, const Consortium& next,
                                             const common::KeyPair& member);

// {"epoch", "quorum", "members", "witnesses", "minters"}, keys in hex.
nlohmann::json consortium_json(const Consortium& c);
// One line: "epoch 0: 3 members, 3 witnesses, quorum 2, 1 minter".
std::string describe_consortium(const Consortium& c);

// A consortium file (TOML): members, witnesses and minters as lists of public keys (hex, or
// key or public-key files, relative to the file's folder) and quorum; epoch is 0.
//   members = ["keys/c1.key.pub", "keys/c2.key.pub", "keys/c3.key.pub"]
//   witnesses = ["keys/c1.key.pub", "keys/c2.key.pub", "keys/c3.key.pub"]
//   quorum = 2
//   minters = ["keys/c1.key.pub"]
// Errors name the file, the field and the entry.
Result<Consortium> load_consortium_file(const std::filesystem::path& path);

// A proposed change in transit between members: the current consortium's digest, the proposal
// and the approvals gathered so far, as JSON (`fl-ledger consortium propose/approve/submit`).
struct ConsortiumChange {
  common::Digest current{};  // consortium_digest of the consortium it replaces
  Consortium next;
  std::vector<ConsortiumApproval> approvals;
};
std::string consortium_change_json(const ConsortiumChange& change);
Result<ConsortiumChange> parse_consortium_change(const std::string& text);

}  // namespace fl::ledger
