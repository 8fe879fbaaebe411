#include "fl/ledger/commands.hpp"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fl/ledger/ledger.hpp"
#include "fl/ledger/queries.hpp"
#include "command_format.hpp"

namespace fl::ledger {

using nlohmann::json;
using common::to_hex;

int command_verify(const CommandContext& c) { return command_verify(c, std::nullopt); }

int command_verify(const CommandContext& c, const std::optional<std::string>& genesis_hex) {
  return command_verify(c, genesis_hex, std::nullopt);
}

int command_verify(const CommandContext& c, const std::optional<std::string>& genesis_hex,
                   const std::optional<std::filesystem::path>& consortium_file) {
  const auto start = std::chrono::steady_clock::now();
  std::optional<Consortium> consortium;
  if (consortium_file) {
    auto loaded = load_consortium_file(*consortium_file);
    if (!loaded.ok()) return fail(c, with_context(loaded.error(), "--consortium"));
    consortium = std::move(loaded).value();
  }
  std::optional<common::Digest> genesis;
  if (genesis_hex) {
    auto parsed = common::digest_from_hex(*genesis_hex);
    if (!parsed.ok()) {
      return fail(c, with_context(parsed.error(), "--genesis (64 hex digits: the hash of block 0 you trust)"));
    }
    genesis = *parsed;
  }
  auto report = verify_ledger(c.db);
  if (!report.ok()) return fail(c, report.error());
  if (genesis && report->ok && report->genesis_hash != *genesis) {
    report->ok = false;
    report->failure = VerifyFailure{0, {}, {}, "genesis block " + to_hex(report->genesis_hash) +
                                                   " is not the expected " + to_hex(*genesis) +
                                                   " (--genesis): this is another chain"};
  }
  if (consortium && report->ok && report->founding_consortium != *consortium) {
    report->ok = false;
    report->failure = VerifyFailure{0, {}, {}, "the genesis block names the consortium " +
                                                   describe_consortium(report->founding_consortium) +
                                                   ", not the one in " + consortium_file->string() +
                                                   " (--consortium): this is another federation's chain"};
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto& r = *report;
  if (c.json) {
    json j = verify_json(r);
    j["seconds"] = seconds;
    c.out << j.dump(2) << '\n';
  } else if (r.ok) {
    c.out << "ok: " << r.blocks << " blocks, " << r.transactions << " transactions, " << r.signatures_checked
          << " signatures checked in " << std::fixed << std::setprecision(3) << seconds << " s\n"
          << "authority " << to_hex(r.authority) << "\nconsortium " << describe_consortium(r.consortium)
          << "\nhead      " << to_hex(r.head_hash)
          << "\ngenesis   " << to_hex(r.genesis_hash) << "\nminted " << r.minted
          << ", slashed " << r.slashed << " = balances " << r.total_balances << " + stakes " << r.total_stakes
          << (r.total_escrow ? " + escrow " + std::to_string(r.total_escrow) : std::string()) << '\n';
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
        << std::setw(5) << "txs" << std::setw(10) << "proposer" << "time (UTC)\n";
  for (const auto& b : chain->blocks) {
    c.out << std::setw(8) << b.header.height << std::setw(18) << short_hex(b.hash) << std::setw(18)
          << short_hex(b.header.merkle_root) << std::setw(5) << b.header.tx_count << std::setw(10)
          << common::short_id(b.header.proposer) << utc_time(b.header.time_ms) << '\n';
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

int command_history(const CommandContext& c, const std::string& account) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  auto key = resolve_account(*chain, account);
  if (!key.ok()) return fail(c, key.error());
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

Result<std::uint64_t> parse_token_amount(std::string_view text, std::string_view option) {
  const std::string shown = std::string(option) + " '" + std::string(text) + "'";
  if (!text.empty() && text.front() == '-') {
    return make_error(ErrorCode::kInvalidArgument, shown + " is negative; token amounts are whole numbers from 1");
  }
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return make_error(ErrorCode::kInvalidArgument, shown + " is not a whole number of token units (digits only)");
  }
  std::uint64_t value = 0;
  for (char digit : text) {
    const std::uint64_t d = static_cast<std::uint64_t>(digit - '0');
    if (value > (UINT64_MAX - d) / 10) {
      return make_error(ErrorCode::kLimitExceeded, shown + " is above the largest amount, 18446744073709551615");
    }
    value = value * 10 + d;
  }
  if (value == 0) return make_error(ErrorCode::kInvalidArgument, shown + ": the amount must be at least 1");
  return value;
}

int command_submit(const CommandContext& c, const std::string& kind, const std::filesystem::path& key_file,
                   const std::string& amount_text, const std::string& to_text, const std::string& job_id) {
  auto amount = parse_token_amount(amount_text, "--amount");
  if (!amount.ok()) return fail(c, amount.error());
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  if (kind == "issue" && !std::filesystem::exists(c.db)) {
    // The first issue of a new federation makes its genesis block, with the issuer as the
    // authority (the coordinator key the job will run with), so a bounty can be funded before
    // the job's first run.
    auto created = Ledger::open(c.db);
    if (!created.ok()) return fail(c, created.error());
    if (auto init = (*created)->initialize(*key); !init.ok()) return fail(c, init.error());
    if (!c.json) c.out << "created " << c.db.string() << " with authority " << to_hex(key->public_key) << '\n';
  }
  // Read first: refuses a file that is not an initialized ledger without touching it.
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  TxBody body;
  if (kind == "transfer" || kind == "issue") {
    auto to = resolve_account(*chain, to_text);
    if (!to.ok()) return fail(c, with_context(to.error(), "--to"));
    body = kind == "issue" ? TxBody(IssueBody{*to, *amount}) : TxBody(TransferBody{*to, *amount});
  } else if (kind == "escrow") {
    body = EscrowBody{job_id, *amount};
  } else if (kind == "stake") {
    body = StakeBody{*amount};
  } else if (kind == "unstake") {
    body = UnstakeBody{*amount};
  } else {
    return fail(c, make_error(ErrorCode::kInvalidArgument, "unknown transaction kind '" + kind + "'"));
  }
  auto led = Ledger::open(c.db);
  if (!led.ok()) return fail(c, led.error());
  auto block = (*led)->submit(*key, std::move(body));
  if (!block.ok()) return fail(c, block.error());
  print_appended(c, *block);
  return 0;
}

}  // namespace fl::ledger
