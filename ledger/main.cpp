// fl-ledger: admin and account-holder commands over a FedLedger ledger database. Parses the
// command line only; every command lives in fl/ledger/commands.hpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "fl/coordinator/round_audit.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/ledger_api.hpp"

int main(int argc, char** argv) {
  CLI::App app{"fl-ledger: inspect, verify and use a FedLedger ledger"};
  app.require_subcommand(1);
  std::string db;
  bool json = false;
  auto with_db = [&](CLI::App* sub) {
    sub->add_option("--db", db, "ledger database (SQLite)")->required();
    sub->add_flag("--json", json, "print one JSON document instead of a table");
    return sub;
  };
  std::function<int(const fl::ledger::CommandContext&)> run;
  std::string id, job, account, model, format = "json", key_file, to;
  std::optional<std::string> out_dir, block_hash, authority;
  std::string amount;  // parsed by the command, which refuses negative and overflowing values
  std::string proof_file;
  std::optional<std::size_t> line;

  std::optional<std::string> genesis;
  auto* verify = with_db(app.add_subcommand("verify", "check every hash link, Merkle root, signature, nonce and balance"));
  verify->add_option("--genesis", genesis, "the hash of block 0 the chain must start with (hex)");
  std::optional<std::string> verify_consortium;
  verify->add_option("--consortium", verify_consortium, "the consortium file the genesis block must name (TOML)");
  verify->callback([&] {
    run = [&](const auto& c) {
      std::optional<std::filesystem::path> file;
      if (verify_consortium) file = *verify_consortium;
      return fl::ledger::command_verify(c, genesis, file);
    };
  });
  std::string etcd_endpoints, chain = "main";
  auto* replicate = with_db(app.add_subcommand(
      "replicate", "bring a SQLite replica up to the chain in etcd and verify it in full"));
  replicate->add_option("--etcd", etcd_endpoints, "etcd members: \"http://HOST:PORT,...\"")->required();
  replicate->add_option("--chain", chain, "the chain's name in etcd (keys under /fedledger/NAME/)");
  replicate->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_replicate(c, etcd_endpoints, chain); };
  });
  std::string archive_checkpoint, archive_key;
  auto* archive = with_db(app.add_subcommand(
      "archive", "move the blocks below a final checkpoint out of etcd; the replicas keep them"));
  archive->add_option("--etcd", etcd_endpoints, "etcd members: \"http://HOST:PORT,...\"")->required();
  archive->add_option("--chain", chain, "the chain's name in etcd (keys under /fedledger/NAME/)");
  archive->add_option("--checkpoint", archive_checkpoint,
                      "a cosigned checkpoint (checkpoint combine); default: the highest final one published in etcd");
  archive->add_option("--key", archive_key, "this member's key file (named in the archive marker)")->required();
  archive->callback([&] {
    run = [&](const auto& c) {
      return fl::ledger::command_archive(c, etcd_endpoints, chain, archive_checkpoint, archive_key);
    };
  });
  with_db(app.add_subcommand("blocks", "list block headers"))->callback([&] { run = fl::ledger::command_blocks; });
  auto* tx = with_db(app.add_subcommand("tx", "show one transaction"));
  tx->add_option("ID", id, "transaction hash (or a unique prefix of 8+ hex digits)")->required();
  tx->callback([&] { run = [&](const auto& c) { return fl::ledger::command_tx(c, id); }; });
  with_db(app.add_subcommand("accounts", "balance, stake, rounds contributed and rejections per account"))
      ->callback([&] { run = fl::ledger::command_accounts; });
  auto* history = with_db(app.add_subcommand("history", "every transaction naming an account"));
  history->add_option("ACCOUNT", account, "public key (hex), a unique prefix of 8+ hex digits, or a .pub/key file")
      ->required();
  history->callback([&] { run = [&](const auto& c) { return fl::ledger::command_history(c, account); }; });
  auto* rounds = with_db(app.add_subcommand("rounds", "the rounds of a job: model, updates, rewards"));
  rounds->add_option("JOB", job, "job id")->required();
  rounds->callback([&] { run = [&](const auto& c) { return fl::ledger::command_rounds(c, job); }; });
  auto* terms = with_db(app.add_subcommand("terms", "the terms a job opened with and the workers' consents"));
  terms->add_option("JOB", job, "job id")->required();
  terms->callback([&] { run = [&](const auto& c) { return fl::ledger::command_terms(c, job); }; });
  auto* proof = with_db(app.add_subcommand("proof", "Merkle inclusion proof of a transaction"));
  proof->add_option("TX", id, "transaction hash or prefix")->required();
  proof->callback([&] { run = [&](const auto& c) { return fl::ledger::command_proof(c, id); }; });
  auto* vproof = app.add_subcommand(
      "verify-proof", "check a proof (from `proof --json`) or a worker's receipts file, offline");
  vproof->add_option("FILE", proof_file, "JSON from `fl-ledger proof --json`, or an fl-worker --receipts file")
      ->required();
  vproof->add_option("--line", line, "check only this line of a receipts file (from 1)");
  vproof->add_option("--block-hash", block_hash, "trusted block hash the header must have");
  vproof->add_option("--authority", authority, "trusted key that must have proposed the block");
  vproof->add_flag("--json", json, "print JSON");
  vproof->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_verify_proof(c, proof_file, block_hash, authority, line); };
  });
  std::string worker;
  auto* check_example = with_db(app.add_subcommand(
      "check-example", "check a worker's proof that an example is (or is not) in its registered data"));
  check_example->add_option("--worker", worker, "the worker: public key (hex), a unique prefix, or a .pub file")
      ->required();
  check_example->add_option("--proof", proof_file, "proof file from `fl-worker prove-example`")->required();
  check_example->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_check_example(c, worker, proof_file); };
  });
  auto* trace = with_db(app.add_subcommand("trace", "the round, updates and workers behind a model"));
  trace->add_option("MODEL", model, "model file (FLMODEL1 or raw) or hex model digest")->required();
  trace->callback([&] { run = [&](const auto& c) { return fl::ledger::command_trace(c, model); }; });
  auto* exp = with_db(app.add_subcommand("export", "transactions, accounts and rounds for auditors"));
  exp->add_option("--format", format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  exp->add_option("--out", out_dir, "folder for transactions/accounts/rounds files (default: stdout)");
  exp->callback([&] {
    run = [&](const auto& c) {
      return fl::ledger::command_export(c, format, out_dir ? std::optional<std::filesystem::path>(*out_dir) : std::nullopt);
    };
  });
  std::string job_id;
  for (const char* kind : {"transfer", "stake", "unstake", "issue", "escrow"}) {
    const std::string k = kind;
    const std::string what = k == "issue"    ? "issue new tokens to an account (the minting authority's key)"
                             : k == "escrow" ? "fund a job's bounty from the researcher's balance"
                                             : k + " tokens, signed with your key";
    auto* sub = with_db(app.add_subcommand(kind, what));
    sub->add_option("--key", key_file, "fl::common key file of the account")->required();
    sub->add_option("--amount", amount, "token units (a whole number from 1)")->required();
    if (k == "transfer" || k == "issue") {
      sub->add_option("--to", to, "recipient: public key (hex), a unique prefix of 8+ digits, or a .pub file")
          ->required();
    }
    if (k == "escrow") sub->add_option("--job", job_id, "the job the bounty pays for")->required();
    sub->callback([&, kind] {
      run = [&, kind](const auto& c) { return fl::ledger::command_submit(c, kind, key_file, amount, to, job_id); };
    });
  }
  auto* refund = with_db(app.add_subcommand("refund", "return a job's unspent escrow to its researcher; closes the job"));
  refund->add_option("--key", key_file, "key file of the job's researcher or of the authority")->required();
  refund->add_option("--job", job_id, "the job")->required();
  refund->callback([&] { run = [&](const auto& c) { return fl::ledger::command_refund(c, key_file, job_id); }; });
  std::string evidence_file;
  double slash_fraction = 0.5;
  std::size_t evidence_line = 1;
  auto* slash = with_db(app.add_subcommand(
      "slash", "slash an equivocating worker's stake, with its two signed updates as the evidence"));
  slash->add_option("--key", key_file, "the authority's key file")->required();
  slash->add_option("--evidence", evidence_file, "the coordinator's evidence.jsonl (or one line of it)")
      ->required()
      ->check(CLI::ExistingFile);
  slash->add_option("--line", evidence_line, "which line of the file (from 1)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->capture_default_str();
  slash->add_option("--fraction", slash_fraction, "share of the stake slashed, in (0, 1]")
      ->check(CLI::Range(1e-9, 1.0))
      ->capture_default_str();
  slash->callback([&] {
    run = [&](const auto& c) {
      return fl::ledger::command_slash(c, key_file, evidence_file, slash_fraction, evidence_line);
    };
  });
  std::string state_dir, checkpoint_file;
  std::optional<std::string> cosign_out;
  std::vector<std::string> witnesses;
  std::size_t k = 0;
  auto* witness = app.add_subcommand("witness", "cosign checkpoints only when they extend what was cosigned");
  witness->require_subcommand(1);
  auto* winit = witness->add_subcommand("init", "create an empty witness view for a key");
  winit->add_option("--key", key_file, "fl::common key file of the witness")->required();
  winit->add_option("--state", state_dir, "folder for the witness's view")->required();
  winit->add_flag("--json", json, "print JSON");
  winit->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_witness_init(c, key_file, state_dir); };
  });
  auto* wcosign = with_db(witness->add_subcommand("cosign", "verify the ledger and cosign its head, or refuse"));
  wcosign->add_option("--key", key_file, "fl::common key file of the witness")->required();
  wcosign->add_option("--state", state_dir, "the witness's view (from `witness init`)")->required();
  wcosign->add_option("--out", cosign_out, "also write the cosigned checkpoint to this file");
  std::string audit_store;
  std::vector<std::string> audit_jobs;
  wcosign->add_option("--audit", audit_store,
                      "first re-run every recorded round from this update store (a coordinator's <output>/store) "
                      "and refuse to cosign when one does not follow from its updates");
  wcosign->add_option("--audit-job", audit_jobs, "audit only this job (repeatable; default: every job with rounds)");
  fl::ledger::ConsortiumTarget publish;
  wcosign->add_option("--publish", publish.etcd,
                      "also put the cosignature beside this etcd chain (\"http://HOST:PORT,...\"), where the job's "
                      "owner hands the final checkpoint to its workers");
  wcosign->add_option("--chain", publish.chain, "with --publish: the chain's name in etcd")->capture_default_str();
  std::string fetch_peers;
  wcosign->add_option("--fetch", fetch_peers,
                      "fetch what the --audit store lacks from the members' store servers first: "
                      "\"tcp://HOST:PORT@KEY,...\" (asked with the witness's --key)")
      ->needs("--audit");
  // --fetch PEERS with the key that asks: the store peers, parsed, or the error to print.
  auto store_fetch = [&](const std::string& command) -> std::optional<std::optional<fl::coordinator::StoreFetch>> {
    if (fetch_peers.empty()) return std::optional<fl::coordinator::StoreFetch>{};
    auto peers = fl::coordinator::parse_store_peers(fetch_peers);
    if (!peers.ok()) {
      std::cerr << "fl-ledger " << command << ": --fetch: " << peers.error().message << '\n';
      return std::nullopt;
    }
    return std::optional<fl::coordinator::StoreFetch>(fl::coordinator::StoreFetch{*peers, key_file});
  };
  wcosign->callback([&] {
    run = [&](const auto& c) {
      if (!audit_store.empty()) {
        const auto fetch = store_fetch("witness cosign");
        if (!fetch) return 1;
        if (auto s = fl::coordinator::audit_chain(c.db, audit_store, audit_jobs, *fetch, &c.err); !s.ok()) {
          c.err << "fl-ledger witness cosign: refused: " << s.error().message << '\n';
          return 1;
        }
      }
      return fl::ledger::command_witness_cosign(
          c, key_file, state_dir, cosign_out ? std::optional<std::filesystem::path>(*cosign_out) : std::nullopt,
          publish);
    };
  });
  std::string store_dir;
  std::optional<std::uint64_t> audit_round, audit_from, audit_to;
  auto* audit = with_db(app.add_subcommand(
      "audit", "re-run a job's recorded rounds from the coordinator's update store and check every model digest"));
  audit->add_option("JOB", job, "job id")->required();
  audit->add_option("--store", store_dir, "update store: a coordinator's <output>/store (or a copy)")->required();
  audit->add_option("--round", audit_round, "audit this round only");
  audit->add_option("--from", audit_from, "first round to audit (default: the job's first)")->excludes("--round");
  audit->add_option("--to", audit_to, "last round to audit (default: the job's last)")->excludes("--round");
  auto* audit_key =
      audit->add_option("--key", key_file, "with --fetch: the key the auditor asks with (the consortium must name it)");
  audit->add_option("--fetch", fetch_peers,
                    "fetch what --store lacks from the members' store servers first: \"tcp://HOST:PORT@KEY,...\"")
      ->needs(audit_key);
  audit->callback([&] {
    run = [&](const auto& c) {
      fl::coordinator::AuditRange range{audit_from, audit_to};
      if (audit_round) range = {audit_round, audit_round};
      const auto fetch = store_fetch("audit");
      if (!fetch) return 1;
      return fl::coordinator::command_audit(c, job, store_dir, range, *fetch);
    };
  });
  std::string store_listen = "tcp://127.0.0.1:0";
  auto* store = app.add_subcommand("store", "a member's update store, served to the consortium");
  store->require_subcommand(1);
  auto* sserve = store->add_subcommand("serve", "serve the store over CURVE to the consortium's members and witnesses");
  sserve->add_option("--store", store_dir, "the update store: a coordinator's <output>/store")->required();
  sserve->add_option("--key", key_file, "this member's key file (the key fetchers pin)")->required();
  sserve->add_option("--db", db, "the ledger (or replica) whose consortium may fetch")->required();
  sserve->add_option("--listen", store_listen, "tcp://HOST:PORT to bind (default: a free loopback port)")
      ->capture_default_str();
  sserve->callback([&] {
    run = [&](const auto& c) { return fl::coordinator::command_store_serve(c, store_dir, key_file, store_listen); };
  });
  auto* checkpoint = app.add_subcommand("checkpoint", "cosigned checkpoints");
  checkpoint->require_subcommand(1);
  auto* cverify = checkpoint->add_subcommand("verify", "check k cosignatures of a checkpoint or a misbehaviour proof");
  cverify->add_option("FILE", checkpoint_file, "cosigned checkpoint or proof of misbehaviour (JSON)")->required();
  cverify->add_option("--witness", witnesses, "an allowed witness: key file or hex public key (repeatable)");
  cverify->add_option("--k", k, "cosignatures required (from 1; with --db: the consortium's quorum)");
  cverify->add_option("--db", db, "instead of --witness: the ledger whose consortium names the witnesses")
      ->excludes("--witness");
  cverify->add_flag("--json", json, "print JSON");
  cverify->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_checkpoint_verify(c, checkpoint_file, witnesses, k); };
  });
  fl::ledger::ConsortiumTarget consortium_target;
  std::string consortium_file, change_file;
  auto* consortium = app.add_subcommand("consortium", "who runs the federation: members, witnesses, quorum, minters");
  consortium->require_subcommand(1);
  auto with_target = [&](CLI::App* sub) {
    with_db(sub)->add_option("--etcd", consortium_target.etcd,
                             "write to the etcd chain (\"http://HOST:PORT,...\"), --db its replica");
    sub->add_option("--chain", consortium_target.chain, "the chain's name in etcd");
    return sub;
  };
  with_db(consortium->add_subcommand("show", "the consortium now and the one the genesis named"))
      ->callback([&] { run = fl::ledger::command_consortium_show; });
  auto* found = with_target(consortium->add_subcommand("found", "write the genesis block naming a consortium"));
  found->add_option("--consortium", consortium_file, "consortium file (TOML: members, witnesses, quorum, minters)")
      ->required();
  found->add_option("--key", key_file, "key file of the member proposing the genesis block")->required();
  found->callback([&] {
    run = [&](const auto& c) {
      return fl::ledger::command_consortium_found(c, consortium_target, key_file, consortium_file);
    };
  });
  auto* propose = with_db(consortium->add_subcommand("propose", "write a membership change for the members to approve"));
  propose->add_option("--consortium", consortium_file, "the new consortium (TOML)")->required();
  propose->add_option("--out", change_file, "the change file to write (JSON)")->required();
  propose->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_consortium_propose(c, consortium_file, change_file); };
  });
  auto* approve = with_db(consortium->add_subcommand("approve", "add a member's approval to a change file"));
  approve->add_option("CHANGE", change_file, "change file from `consortium propose`")->required();
  approve->add_option("--key", key_file, "the approving member's key file")->required();
  approve->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_consortium_approve(c, change_file, key_file); };
  });
  auto* csubmit = with_target(consortium->add_subcommand("submit", "append an approved change to the ledger"));
  csubmit->add_option("CHANGE", change_file, "change file with a quorum of approvals")->required();
  csubmit->add_option("--key", key_file, "key file of the member appending it")->required();
  csubmit->callback([&] {
    run = [&](const auto& c) {
      return fl::ledger::command_consortium_submit(c, consortium_target, change_file, key_file);
    };
  });
  std::vector<std::string> combine_files;
  std::string combine_out;
  auto* combine = checkpoint->add_subcommand("combine", "gather the witnesses' cosignatures of one checkpoint");
  combine->add_option("FILES", combine_files, "cosigned checkpoints of the same head (JSON)")->required();
  combine->add_option("--out", combine_out, "the combined checkpoint to write")->required();
  combine->callback([&] {
    run = [&](const auto& c) {
      return fl::ledger::command_checkpoint_combine(
          c, std::vector<std::filesystem::path>(combine_files.begin(), combine_files.end()), combine_out);
    };
  });
  std::string listen = "127.0.0.1:8080", token;
  auto* serve = app.add_subcommand("serve", "the ledger API (/api/ledger/...) and the dashboard over HTTP");
  serve->add_option("--db", db, "ledger database (SQLite), opened read-only")->required();
  serve->add_option("--listen", listen, "HOST:PORT (default 127.0.0.1:8080; another host needs a token)");
  serve->add_option("--token", token, "bearer token to require (default: none on loopback, else generated)");
  serve->callback([&] {
    run = [&](const auto& c) { return fl::ledger::command_serve(c.db, listen, token, c.out, c.err); };
  });
  CLI11_PARSE(app, argc, argv);
  // Commands report expected failures as values; this only keeps a bug from printing a raw
  // exception (or aborting) in front of a user.
  try {
    return run(fl::ledger::CommandContext{db, json, std::cout, std::cerr});
  } catch (const std::exception& e) {
    std::cerr << "fl-ledger: internal error: " << e.what() << " (please report it)\n";
    return 2;
  }
}
