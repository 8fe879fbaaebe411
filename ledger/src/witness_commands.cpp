// fl-ledger witness init|cosign and fl-ledger checkpoint verify: a witness's
// view on disk, its cosignature of a ledger's head (or its refusal, with a
// proof of misbehaviour when it has one), and the offline check of a cosigned
// checkpoint or such a proof against a set of witnesses.
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "command_format.hpp"
#include "fl/common/checkpoint.hpp"
#include "fl/ledger/checkpoint.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/witness.hpp"

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

int command_witness_init(const CommandContext& c, const std::filesystem::path& key_file,
                         const std::filesystem::path& state_dir) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, key.error());
  if (auto st = Witness::init(state_dir, key->public_key); !st.ok()) return fail(c, st.error());
  if (c.json) {
    c.out << json{{"ok", true}, {"witness", to_hex(key->public_key)}, {"state", state_dir.string()}}
                 .dump(2)
          << '\n';
  } else {
    c.out << "witness " << to_hex(key->public_key) << ": empty view in " << state_dir.string()
          << '\n';
  }
  return 0;
}

int command_witness_cosign(const CommandContext& c, const std::filesystem::path& key_file,
                           const std::filesystem::path& state_dir,
                           const std::optional<std::filesystem::path>& out_file) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, key.error());
  auto witness = Witness::open(state_dir, std::move(key).value());
  if (!witness.ok()) return fail(c, witness.error());
  auto store = open_sqlite_block_store(c.db, StoreAccess::kReadOnly);
  if (!store.ok()) return fail(c, store.error());
  auto outcome = witness->cosign(**store);
  if (!outcome.ok()) return fail(c, outcome.error());
  if (!outcome->verdict.ok()) {
    const std::string why = outcome->verdict.error().message;
    json j{{"ok", false},
           {"refused", why},
           {"misbehaviour_proof",
            outcome->proof ? misbehaviour_proof_json(*outcome->proof) : json(nullptr)}};
    c.out << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';  // paths in `why`
    c.err << "fl-ledger witness cosign: " << c.db.string() << ": " << why << '\n';
    return 1;
  }
  const std::string text = common::cosigned_checkpoint_to_json(*outcome->cosigned, 2) + "\n";
  if (out_file) {
    if (auto st = common::write_file_durably(*out_file, text); !st.ok()) return fail(c, st.error());
  }
  c.out << text;
  return 0;
}

namespace {

// A witness named on the command line: a key or public-key file, or 64 hex
// digits.
Result<common::PublicKey> witness_key(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) return common::load_public_key_file(arg);
  auto key = common::public_key_from_hex(arg);
  if (!key.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--witness " + arg + " is neither a key file nor a 64-digit public key");
  }
  return key;
}

}  // namespace

int command_checkpoint_verify(const CommandContext& c, const std::filesystem::path& file,
                              const std::vector<std::string>& witness_args, std::size_t k) {
  std::vector<common::PublicKey> witnesses;
  for (const auto& a : witness_args) {
    auto key = witness_key(a);
    if (!key.ok()) return fail(c, key.error());
    witnesses.push_back(*key);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(c, make_error(ErrorCode::kNotFound, "cannot read " + file.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const json j = json::parse(text, nullptr, false);
  Status st;
  std::string what;
  if (j.is_object() && j.contains("conflicting_block")) {
    auto proof = misbehaviour_proof_from_json(j);
    if (!proof.ok()) return fail(c, with_context(proof.error(), file.string()));
    st = verify_misbehaviour_proof(*proof, witnesses, k);
    what = "proof of misbehaviour: " + proof->conflict;
  } else {
    auto cp = common::cosigned_checkpoint_from_json(text);
    if (!cp.ok()) return fail(c, with_context(cp.error(), file.string()));
    st = common::verify_cosigned(*cp, witnesses, k);
    what = "checkpoint at height " + std::to_string(cp->checkpoint.height) + " (head " +
           short_hex(cp->checkpoint.head_hash) + ") has at least " + std::to_string(k) +
           " valid cosignature(s)";
  }
  if (c.json) {
    c.out << json{{"ok", st.ok()}, {"error", st.ok() ? "" : st.error().to_string()}}.dump(2)
          << '\n';
  } else {
    c.out << (st.ok() ? "ok: " + what : "FAILED: " + st.error().to_string()) << '\n';
  }
  if (!st.ok())
    c.err << "fl-ledger checkpoint verify: " << file.string() << ": " << st.error().message << '\n';
  return st.ok() ? 0 : 1;
}

}  // namespace fl::ledger
