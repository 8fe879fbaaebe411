#include "fl/ledger/commands.hpp"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fl/ledger/ledger.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {
namespace {

using nlohmann::json;
using common::to_hex;

int fail(const CommandContext& c, const Error& e) {
  if (c.json) {
    c.out << json{{"ok", false}, {"error", e.to_string()}}.dump(2) << '\n';
  }
  c.err << "fl-ledger: " << e.to_string() << '\n';
  return 1;
}

json block_json(const Block& b) {
  const auto& h = b.header;
  return {{"height", h.height},           {"hash", to_hex(b.hash)},         {"prev_hash", to_hex(h.prev_hash)},
          {"merkle_root", to_hex(h.merkle_root)}, {"time_ms", h.time_ms}, {"tx_count", h.tx_count},
          {"proposer", to_hex(h.proposer)},       {"signature", to_hex(b.signature)}};
}

json body_json(const TxBody& body) {
  return std::visit(
      [](const auto& b) -> json {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, RegisterBody>) {
          return {{"dataset_fingerprint", b.dataset_fingerprint}};
        } else if constexpr (std::is_same_v<T, OpenJobBody>) {
          return {{"job", b.job_id}, {"model", b.model}, {"rule", b.rule}, {"reward_per_round", b.reward_per_round}};
        } else if constexpr (std::is_same_v<T, RoundResultBody>) {
          json acc = json::array(), rej = json::array();
          for (const auto& a : b.accepted) {
            acc.push_back({{"worker", to_hex(a.worker)}, {"update_digest", to_hex(a.update_digest)},
                           {"score", a.score}, {"num_samples", a.num_samples}});
          }
          for (const auto& r : b.rejected) {
            rej.push_back({{"worker", to_hex(r.worker)}, {"update_digest", to_hex(r.update_digest)}, {"reason", r.reason}});
          }
          return {{"job", b.job_id}, {"round", b.round}, {"model_digest", to_hex(b.model_digest)}, {"rule", b.rule},
                  {"scorer", b.scorer},
                  {"accepted", acc}, {"rejected", rej}};
        } else if constexpr (std::is_same_v<T, RewardMintBody>) {
          return {{"job", b.job_id}, {"round", b.round}, {"to", to_hex(b.to)}, {"amount", b.amount}};
        } else if constexpr (std::is_same_v<T, TransferBody>) {
          return {{"to", to_hex(b.to)}, {"amount", b.amount}};
        } else if constexpr (std::is_same_v<T, SlashBody>) {
          return {{"account", to_hex(b.account)}, {"reason", b.reason}, {"amount", b.amount}};
        } else {
          return {{"amount", b.amount}};
        }
      },
      body);
}

json tx_json(const StoredTx& t) {
  json j{{"hash", to_hex(t.hash)},       {"height", t.height},       {"index", t.index},
         {"type", to_string(t.tx.type())}, {"issuer", to_hex(t.tx.issuer)}, {"nonce", t.tx.nonce},
         {"timestamp_ms", t.tx.timestamp_ms}, {"signature", to_hex(t.tx.signature)}, {"summary", describe(t.tx)},
         {"body", body_json(t.tx.body)}};
  if (auto a = t.tx.amount()) j["amount"] = *a;
  return j;
}

json account_json(const common::PublicKey& key, const AccountState& a, const common::PublicKey& authority) {
  return {{"account", to_hex(key)},     {"balance", a.balance},       {"stake", a.stake},
          {"registered", a.registered}, {"authority", key == authority}, {"rounds_contributed", a.rounds_contributed},
          {"rejections", a.rejections}, {"earned", a.earned},         {"slashed", a.slashed},
          {"next_nonce", a.next_nonce}};
}

json round_json(const RoundSummary& r) {
  json updates = json::array();
  for (const auto& u : r.updates) {
    json j{{"worker", to_hex(u.worker)}, {"update_digest", to_hex(u.update_digest)}, {"accepted", u.accepted}};
    if (u.accepted) {
      j["score"] = u.score;
      j["num_samples"] = u.num_samples;
      j["reward"] = u.reward;
    } else {
      j["reason"] = u.reason;
    }
    updates.push_back(j);
  }
  return {{"job", r.job_id},    {"round", r.round},   {"height", r.height}, {"tx", to_hex(r.tx_hash)},
          {"timestamp_ms", r.timestamp_ms}, {"model_digest", to_hex(r.model_digest)}, {"rule", r.rule},
          {"scorer", r.scorer},
          {"minted", r.minted}, {"updates", updates}};
}

std::string short_hex(const common::Digest& d) { return to_hex(d).substr(0, 16); }

void print_round(std::ostream& out, const RoundSummary& r) {
  out << "job '" << r.job_id << "' round " << r.round << "  block " << r.height << "  tx " << short_hex(r.tx_hash)
      << "\n  model " << to_hex(r.model_digest) << "\n  rule " << r.rule
      << (r.scorer.empty() ? "" : ", scorer " + r.scorer) << ", minted " << r.minted << "\n";
  for (const auto& u : r.updates) {
    out << "  " << (u.accepted ? "accepted " : "rejected ") << common::short_id(u.worker) << "  update "
        << short_hex(u.update_digest);
    if (u.accepted) {
      out << "  score " << std::fixed << std::setprecision(4) << u.score << "  samples " << u.num_samples << "  paid "
          << u.reward << '\n';
    } else {
      out << "  reason: " << u.reason << '\n';
    }
  }
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

Result<MerkleProof> proof_from_json(const json& j) {
  try {
    MerkleProof p;
    FL_ASSIGN_OR_RETURN(p.tx_hash, common::digest_from_hex(j.at("tx_hash").get<std::string>()));
    p.leaf_index = j.at("leaf_index").get<std::uint64_t>();
    p.tree_size = j.at("tree_size").get<std::uint64_t>();
    for (const auto& h : j.at("proof")) {
      FL_ASSIGN_OR_RETURN(auto d, common::digest_from_hex(h.get<std::string>()));
      p.path.push_back(d);
    }
    const auto& b = j.at("block");
    auto& h = p.block.header;
    h.height = b.at("height").get<std::uint64_t>();
    h.time_ms = b.at("time_ms").get<std::uint64_t>();
    h.tx_count = b.at("tx_count").get<std::uint64_t>();
    FL_ASSIGN_OR_RETURN(h.prev_hash, common::digest_from_hex(b.at("prev_hash").get<std::string>()));
    FL_ASSIGN_OR_RETURN(h.merkle_root, common::digest_from_hex(b.at("merkle_root").get<std::string>()));
    FL_ASSIGN_OR_RETURN(h.proposer, common::public_key_from_hex(b.at("proposer").get<std::string>()));
    FL_ASSIGN_OR_RETURN(p.block.hash, common::digest_from_hex(b.at("hash").get<std::string>()));
    FL_ASSIGN_OR_RETURN(p.block.signature, (common::fixed_from_hex<64>(b.at("signature").get<std::string>(),
                                                                        "block signature")));
    return p;
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("proof file: ") + e.what());
  }
}

json proof_json(const MerkleProof& p) {
  json path = json::array();
  for (const auto& d : p.path) path.push_back(to_hex(d));
  return {{"tx_hash", to_hex(p.tx_hash)}, {"leaf_index", p.leaf_index}, {"tree_size", p.tree_size},
          {"proof", path},               {"merkle_root", to_hex(p.block.header.merkle_root)},
          {"block", block_json(p.block)}};
}

}  // namespace

int command_verify(const CommandContext& c) {
  const auto start = std::chrono::steady_clock::now();
  auto report = verify_ledger(c.db);
  if (!report.ok()) return fail(c, report.error());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& r = *report;
  if (c.json) {
    json j{{"ok", r.ok},
           {"blocks", r.blocks},
           {"transactions", r.transactions},
           {"signatures_checked", r.signatures_checked},
           {"authority", to_hex(r.authority)},
           {"head_hash", to_hex(r.head_hash)},
           {"minted", r.minted},
           {"slashed", r.slashed},
           {"total_balances", r.total_balances},
           {"total_stakes", r.total_stakes},
           {"seconds", seconds},
           {"failure", nullptr}};
    if (r.failure) {
      json f{{"height", r.failure->height}, {"problem", r.failure->problem}, {"message", r.failure->to_string()}};
      f["tx_index"] = r.failure->tx_index ? json(*r.failure->tx_index) : json(nullptr);
      f["tx_hash"] = r.failure->tx_hash ? json(to_hex(*r.failure->tx_hash)) : json(nullptr);
      j["failure"] = f;
    }
    c.out << j.dump(2) << '\n';
  } else if (r.ok) {
    c.out << "ok: " << r.blocks << " blocks, " << r.transactions << " transactions, " << r.signatures_checked
          << " signatures checked in " << std::fixed << std::setprecision(3) << seconds << " s\n"
          << "authority " << to_hex(r.authority) << "\nhead      " << to_hex(r.head_hash) << "\nminted " << r.minted
          << ", slashed " << r.slashed << " = balances " << r.total_balances << " + stakes " << r.total_stakes << '\n';
  } else {
    c.out << "FAILED: " << r.failure->to_string() << '\n';
  }
  if (!r.ok) c.err << "fl-ledger verify: " << c.db.string() << ": " << r.failure->to_string() << '\n';
  return r.ok ? 0 : 1;
}

int command_blocks(const CommandContext& c) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  if (c.json) {
    json arr = json::array();
    for (const auto& b : chain->blocks) arr.push_back(block_json(b));
    c.out << arr.dump(2) << '\n';
    return 0;
  }
  c.out << std::left << std::setw(8) << "height" << std::setw(18) << "hash" << std::setw(18) << "merkle_root"
        << std::setw(5) << "txs" << std::setw(10) << "proposer" << "time_ms\n";
  for (const auto& b : chain->blocks) {
    c.out << std::setw(8) << b.header.height << std::setw(18) << short_hex(b.hash) << std::setw(18)
          << short_hex(b.header.merkle_root) << std::setw(5) << b.header.tx_count << std::setw(10)
          << common::short_id(b.header.proposer) << b.header.time_ms << '\n';
  }
  return 0;
}

int command_tx(const CommandContext& c, const std::string& id) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  auto tx = find_tx(*chain, id);
  if (!tx.ok()) return fail(c, tx.error());
  const json j = tx_json(**tx);
  if (c.json) {
    c.out << j.dump(2) << '\n';
  } else {
    c.out << "tx " << j["hash"].get<std::string>() << "\n  block " << (*tx)->height << " index " << (*tx)->index
          << "\n  " << describe((*tx)->tx) << "\n  issuer " << j["issuer"].get<std::string>() << " nonce "
          << (*tx)->tx.nonce << "\n  body " << j["body"].dump() << '\n';
  }
  return 0;
}

int command_accounts(const CommandContext& c) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  const auto& s = chain->state;
  if (c.json) {
    json arr = json::array();
    for (const auto& [k, a] : s.accounts()) arr.push_back(account_json(k, a, s.authority()));
    c.out << arr.dump(2) << '\n';
    return 0;
  }
  c.out << std::left << std::setw(12) << "account" << std::setw(12) << "balance" << std::setw(10) << "stake"
        << std::setw(8) << "rounds" << std::setw(11) << "rejections" << std::setw(10) << "earned" << "role\n";
  for (const auto& [k, a] : s.accounts()) {
    const std::string role = k == s.authority() ? "authority" : a.registered ? "worker" : "";
    c.out << std::setw(12) << common::short_id(k) << std::setw(12) << a.balance << std::setw(10) << a.stake
          << std::setw(8) << a.rounds_contributed << std::setw(11) << a.rejections << std::setw(10) << a.earned << role
          << '\n';
  }
  c.out << "supply: minted " << s.minted() << ", slashed " << s.slashed() << '\n';
  return 0;
}

int command_history(const CommandContext& c, const std::string& account_hex) {
  auto key = common::public_key_from_hex(account_hex);
  if (!key.ok()) return fail(c, with_context(key.error(), "account"));
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  const auto txs = history_of(*chain, *key);
  if (c.json) {
    json arr = json::array();
    for (const auto* t : txs) arr.push_back(tx_json(*t));
    c.out << arr.dump(2) << '\n';
    return 0;
  }
  for (const auto* t : txs) {
    c.out << std::left << std::setw(8) << t->height << std::setw(4) << t->index << std::setw(18) << short_hex(t->hash)
          << describe(t->tx) << '\n';
  }
  return 0;
}

int command_rounds(const CommandContext& c, const std::string& job_id) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  if (!chain->state.jobs().count(job_id)) return fail(c, make_error(ErrorCode::kNotFound, "no job '" + job_id + "' on the ledger"));
  const auto rounds = rounds_of(*chain, job_id);
  if (c.json) {
    json arr = json::array();
    for (const auto& r : rounds) arr.push_back(round_json(r));
    c.out << arr.dump(2) << '\n';
    return 0;
  }
  for (const auto& r : rounds) print_round(c.out, r);
  return 0;
}

int command_proof(const CommandContext& c, const std::string& tx_id) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  auto tx = find_tx(*chain, tx_id);
  if (!tx.ok()) return fail(c, tx.error());
  auto proof = proof_for(*chain, **tx);
  if (!proof.ok()) return fail(c, proof.error());
  if (c.json) {
    c.out << proof_json(*proof).dump(2) << '\n';
    return 0;
  }
  c.out << "tx " << to_hex(proof->tx_hash) << "\nleaf " << proof->leaf_index << " of " << proof->tree_size
        << " in block " << proof->block.header.height << " (" << to_hex(proof->block.hash) << ")\nroot "
        << to_hex(proof->block.header.merkle_root) << "\npath:\n";
  for (const auto& d : proof->path) c.out << "  " << to_hex(d) << '\n';
  return 0;
}

int command_verify_proof(const CommandContext& c, const std::filesystem::path& proof_file,
                         const std::optional<std::string>& block_hash_hex, const std::optional<std::string>& authority_hex) {
  std::ifstream in(proof_file);
  if (!in) return fail(c, make_error(ErrorCode::kNotFound, "cannot read proof file " + proof_file.string()));
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return fail(c, make_error(ErrorCode::kInvalidArgument, proof_file.string() + ": not JSON"));
  auto proof = proof_from_json(j);
  if (!proof.ok()) return fail(c, with_context(proof.error(), proof_file.string()));
  std::optional<common::Digest> trusted_hash;
  std::optional<common::PublicKey> trusted_proposer;
  if (block_hash_hex) {
    auto d = common::digest_from_hex(*block_hash_hex);
    if (!d.ok()) return fail(c, with_context(d.error(), "--block-hash"));
    trusted_hash = *d;
  }
  if (authority_hex) {
    auto k = common::public_key_from_hex(*authority_hex);
    if (!k.ok()) return fail(c, with_context(k.error(), "--authority"));
    trusted_proposer = *k;
  }
  auto st = check_proof(*proof, trusted_hash, trusted_proposer);
  if (c.json) {
    c.out << json{{"ok", st.ok()}, {"error", st.ok() ? "" : st.error().to_string()}}.dump(2) << '\n';
  } else {
    c.out << (st.ok() ? "ok: transaction " + to_hex(proof->tx_hash) + " is in block " +
                            std::to_string(proof->block.header.height)
                      : "FAILED: " + st.error().to_string())
          << '\n';
  }
  return st.ok() ? 0 : 1;
}

int command_trace(const CommandContext& c, const std::string& model_file_or_digest) {
  auto digest = model_digest_of(model_file_or_digest);
  if (!digest.ok()) return fail(c, digest.error());
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  const auto rounds = rounds_with_model(*chain, *digest);
  if (rounds.empty()) {
    return fail(c, make_error(ErrorCode::kNotFound, "no round on the ledger produced model " + to_hex(*digest)));
  }
  if (c.json) {
    json arr = json::array();
    for (const auto& r : rounds) arr.push_back(round_json(r));
    c.out << json{{"model_digest", to_hex(*digest)}, {"rounds", arr}}.dump(2) << '\n';
    return 0;
  }
  c.out << "model " << to_hex(*digest) << " was produced by:\n";
  for (const auto& r : rounds) print_round(c.out, r);
  return 0;
}

int command_export(const CommandContext& c, const std::string& format, const std::optional<std::filesystem::path>& out_dir) {
  if (format != "csv" && format != "json") {
    return fail(c, make_error(ErrorCode::kInvalidArgument, "--format must be csv or json, not '" + format + "'"));
  }
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  const auto& s = chain->state;
  const auto rounds = rounds_of(*chain, "");
  std::ostringstream txs, accounts, rounds_out;
  if (format == "json") {
    json t = json::array(), a = json::array(), r = json::array();
    for (const auto& x : chain->txs) t.push_back(tx_json(x));
    for (const auto& [k, acc] : s.accounts()) a.push_back(account_json(k, acc, s.authority()));
    for (const auto& x : rounds) r.push_back(round_json(x));
    if (!out_dir) {
      c.out << json{{"transactions", t}, {"accounts", a}, {"rounds", r}}.dump(2) << '\n';
      return 0;
    }
    txs << t.dump(2) << '\n';
    accounts << a.dump(2) << '\n';
    rounds_out << r.dump(2) << '\n';
  } else {
    txs << "height,index,hash,type,issuer,nonce,timestamp_ms,amount,summary\n";
    for (const auto& x : chain->txs) {
      const auto amount = x.tx.amount();
      txs << x.height << ',' << x.index << ',' << to_hex(x.hash) << ',' << to_string(x.tx.type()) << ','
          << to_hex(x.tx.issuer) << ',' << x.tx.nonce << ',' << x.tx.timestamp_ms << ','
          << (amount ? std::to_string(*amount) : "") << ',' << csv_field(describe(x.tx)) << '\n';
    }
    accounts << "account,balance,stake,registered,rounds_contributed,rejections,earned,slashed\n";
    for (const auto& [k, a] : s.accounts()) {
      accounts << to_hex(k) << ',' << a.balance << ',' << a.stake << ',' << (a.registered ? 1 : 0) << ','
               << a.rounds_contributed << ',' << a.rejections << ',' << a.earned << ',' << a.slashed << '\n';
    }
    rounds_out << "job,round,height,tx,model_digest,rule,scorer,worker,update_digest,status,score,num_samples,reward,reason\n";
    for (const auto& r : rounds) {
      for (const auto& u : r.updates) {
        rounds_out << csv_field(r.job_id) << ',' << r.round << ',' << r.height << ',' << to_hex(r.tx_hash) << ','
                   << to_hex(r.model_digest) << ',' << csv_field(r.rule) << ',' << csv_field(r.scorer) << ',' << to_hex(u.worker) << ','
                   << to_hex(u.update_digest) << ',' << (u.accepted ? "accepted" : "rejected") << ','
                   << std::setprecision(17) << u.score << ',' << u.num_samples << ',' << u.reward << ','
                   << csv_field(u.reason) << '\n';
      }
    }
    if (!out_dir) {
      c.out << "# transactions.csv\n" << txs.str() << "\n# accounts.csv\n" << accounts.str() << "\n# rounds.csv\n"
            << rounds_out.str();
      return 0;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(*out_dir, ec);
  for (const auto& [name, text] : {std::pair{"transactions", txs.str()}, std::pair{"accounts", accounts.str()},
                                   std::pair{"rounds", rounds_out.str()}}) {
    const auto path = *out_dir / (std::string(name) + "." + format);
    std::ofstream f(path);
    f << text;
    if (!f) return fail(c, make_error(ErrorCode::kIo, "cannot write " + path.string()));
    c.out << "wrote " << path.string() << '\n';
  }
  return 0;
}

int command_submit(const CommandContext& c, const std::string& kind, const std::filesystem::path& key_file,
                   std::uint64_t amount, const std::string& to_hex_str) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  TxBody body;
  if (kind == "transfer") {
    auto to = common::public_key_from_hex(to_hex_str);
    if (!to.ok()) return fail(c, with_context(to.error(), "--to"));
    body = TransferBody{*to, amount};
  } else if (kind == "stake") {
    body = StakeBody{amount};
  } else if (kind == "unstake") {
    body = UnstakeBody{amount};
  } else {
    return fail(c, make_error(ErrorCode::kInvalidArgument, "unknown transaction kind '" + kind + "'"));
  }
  if (!std::filesystem::exists(c.db)) {
    return fail(c, make_error(ErrorCode::kNotFound, "ledger database " + c.db.string() + " does not exist"));
  }
  auto led = Ledger::open(c.db);
  if (!led.ok()) return fail(c, led.error());
  auto block = (*led)->submit(*key, std::move(body));
  if (!block.ok()) return fail(c, block.error());
  const auto& b = *block;
  if (c.json) {
    c.out << json{{"ok", true}, {"tx", to_hex(b.tx_hashes.at(0))}, {"height", b.block.header.height},
                  {"block_hash", to_hex(b.block.hash)}, {"summary", describe(b.txs.at(0))}}
                 .dump(2)
          << '\n';
  } else {
    c.out << describe(b.txs.at(0)) << "\n  tx " << to_hex(b.tx_hashes.at(0)) << " in block " << b.block.header.height
          << '\n';
  }
  return 0;
}

}  // namespace fl::ledger
