// fl-worker: keygen | run | check | fingerprint | prove-example. Parses arguments and calls fl_worker.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "fl/common/crypto.hpp"
#include "fl/common/job_card.hpp"
#include "fl/common/logging.hpp"
#include "fl/worker/data_provenance.hpp"
#include "fl/worker/job_check.hpp"
#include "fl/worker/key_file.hpp"
#include "fl/worker/stop_signal.hpp"
#include "fl/worker/worker.hpp"

namespace {

int fail(const fl::Error& e) {
  std::cerr << "fl-worker: " << e.to_string() << "\n";
  return 1;
}

fl::Status parse_part(const std::string& text, fl::worker::WorkerOptions& o) {
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    o.part_index = std::stoi(text.substr(0, slash));
    o.num_parts = std::stoi(text.substr(slash + 1));
  } catch (const std::exception&) {
    return fl::make_error(fl::ErrorCode::kInvalidArgument, "--partition '" + text + "': expected k/n, e.g. 0/8");
  }
  return fl::ok_status();
}

// --coordinator-key: 64 hex digits, or a key file / public-key file.
fl::Result<fl::common::PublicKey> parse_coordinator_key(const std::string& text) {
  auto key = fl::common::public_key_from_text(text);
  if (!key.ok()) return fl::with_context(key.error(), "--coordinator-key (64 hex digits or a key file)");
  return key;
}

// The job card and --coordinator-key pin the coordinator; when both are given they must agree.
fl::Status pin_coordinator(const std::string& card_path, const std::string& key_text, bool endpoint_given,
                           fl::worker::WorkerOptions& o) {
  if (!card_path.empty()) {
    FL_ASSIGN_OR_RETURN(auto card, fl::common::load_job_card(card_path));
    o.coordinator_key = card.coordinator_key;
    o.job_id = card.job_id;
    if (card.terms_digest != fl::common::Digest{}) o.card_terms_digest = card.terms_digest;
    o.card_researcher = card.researcher_key;
    if (!endpoint_given) o.coordinator = card.endpoint;
    spdlog::info("job card {}: job '{}' at {}, coordinator key {}, signed by researcher {}", card_path, card.job_id,
                 card.endpoint, fl::common::short_id(card.coordinator_key), fl::common::short_id(card.researcher_key));
  }
  if (!key_text.empty()) {
    // One key for every endpoint, or one per endpoint (members with their own keys).
    std::vector<fl::common::PublicKey> keys;
    for (const auto& item : fl::worker::coordinator_endpoints(key_text)) {
      FL_ASSIGN_OR_RETURN(auto key, parse_coordinator_key(item));
      keys.push_back(key);
    }
    if (o.coordinator_key && std::find(keys.begin(), keys.end(), *o.coordinator_key) == keys.end()) {
      return fl::make_error(fl::ErrorCode::kInvalidArgument,
                            "--coordinator-key " + fl::common::short_id(keys.front()) +
                                (keys.size() > 1 ? " (and the others listed)" : "") + " differs from the job card's " +
                                fl::common::short_id(*o.coordinator_key));
    }
    if (keys.size() == 1) {
      o.coordinator_key = keys.front();
    } else {
      if (o.coordinator_key && keys.front() != *o.coordinator_key) {
        return fl::make_error(fl::ErrorCode::kInvalidArgument,
                              "--coordinator-key: the first key must be the job card's " +
                                  fl::common::short_id(*o.coordinator_key) + " (the card's endpoint comes first)");
      }
      o.coordinator_key = keys.front();
      o.coordinator_keys = std::move(keys);
    }
  }
  return fl::ok_status();
}

// The options that choose the local data, shared by run, fingerprint and prove-example so the
// data committed to is the data trained on.
void add_data_options(CLI::App* sub, fl::worker::WorkerOptions& o, std::string& part) {
  sub->add_option("--data", o.data,
                 "dataset spec: idx:DIR (or a folder of IDX files), npz:FILE, csv:FILE?label=COLUMN, "
                 "cifar10:DIR, images:DIR; the same spec as the job's [data] spec")
      ->capture_default_str();
  sub->add_option("--partition", part, "this worker's share k/n of the training set")->capture_default_str();
  sub->add_option("--partitioner", o.partition, "iid | dirichlet:ALPHA | shards:K")->capture_default_str();
  sub->add_option("--partition-seed", o.partition_seed, "seed shared by all workers of a job")->capture_default_str();
  sub->add_option("--max-samples", o.max_samples, "use at most this many local examples (0: all)");
}

// prove-example: writes the proof to `out_file` and says what it claims.
int write_proof(const fl::common::ExampleProof& proof, const std::string& out_file) {
  std::ofstream out(out_file, std::ios::trunc);
  if (!(out << fl::common::example_proof_to_json(proof))) {
    return fail(fl::make_error(fl::ErrorCode::kIo, "cannot write proof file " + out_file));
  }
  std::cout << fl::common::to_string(proof.claim) << ": example "
            << fl::common::to_hex(proof.example) << " in " << proof.tree_size
            << " examples (root " << fl::common::to_hex(proof.root) << "); proof in " << out_file
            << "\n";
  return 0;
}

// check: the terms and the decision; exit 0 when the policy accepts them, 2 when it refuses.
int print_check(const fl::worker::JobCheck& check) {
  if (check.terms) {
    std::cout << fl::common::describe_terms(*check.terms);
  } else {
    std::cout << "the coordinator offers no job terms\n";
  }
  if (check.refusal) {
    std::cout << "decision: refuse (" << *check.refusal << ")\n";
    return 2;
  }
  std::cout << "decision: accept" << (check.terms ? "" : " (nothing to consent to)") << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fl-worker: trains on local data and sends signed model updates to a FedLedger coordinator"};
  app.require_subcommand(1);

  auto* keygen = app.add_subcommand("keygen", "create an Ed25519 key file (0600) and its public-key file");
  std::string key_out = "worker.key";
  bool force = false;
  keygen->add_option("--out", key_out, "key file to write")->capture_default_str();
  keygen->add_flag("--force", force, "replace an existing key file (its identity is lost)");

  auto* run = app.add_subcommand("run", "join a job and train until the coordinator ends it");
  fl::worker::WorkerOptions o;
  std::string part = "0/1", attack = "none", log_level = "info";
  std::string job_card, coordinator_key;
  auto* endpoint_option =
      run->add_option("--coordinator", o.coordinator, "coordinator endpoint, or the job's coordinators tcp://A,tcp://B,... (the worker moves to the next when one stays unreachable); default: the job card's")
          ->capture_default_str();
  run->add_option("--job-card", job_card, "signed job card from the researcher: endpoint, job, coordinator key");
  run->add_option("--coordinator-key", coordinator_key,
                  "pin the coordinator's key: 64 hex digits or its public-key file (instead of a job card); "
                  "with several --coordinator endpoints whose members hold their own keys, one per endpoint: K1,K2,...");
  run->add_flag("--plaintext", o.plaintext,
                "RESEARCH MODE: no CURVE encryption (only with a job that sets network.plaintext = true)");
  run->add_option("--max-epochs", o.bounds.max_epochs, "refuse tasks asking for more epochs")->capture_default_str();
  run->add_option("--max-batch-size", o.bounds.max_batch_size, "refuse tasks asking for larger batches")
      ->capture_default_str();
  run->add_option("--max-learning-rate", o.bounds.max_learning_rate, "refuse tasks asking for a larger learning rate")
      ->capture_default_str();
  run->add_option("--max-model-parameters", o.bounds.max_model_parameters, "refuse tasks with larger models")
      ->capture_default_str();
  run->add_option("--max-dp-workers", o.bounds.max_dp_workers,
                 "refuse distributed-DP tasks that split the noise over more workers (m)")
      ->capture_default_str();
  run->add_option("--min-noise-multiplier", o.bounds.min_noise_multiplier,
                  "refuse distributed-DP tasks asking for less noise (sigma)")
      ->capture_default_str();
  run->add_option("--key", o.key_file, "this worker's key file (fl-worker keygen)")->required();
  std::string policy_file;
  run->add_option("--policy", policy_file,
                  "policy file (TOML): the researchers, rewards, privacy, rounds, models, hours, threads and "
                  "memory this worker accepts; a job whose terms break it is refused before registering");
  auto* check = app.add_subcommand("check", "print a job's terms and whether the policy accepts them, without joining");
  check->add_option("--coordinator", o.coordinator, "coordinator endpoint (default: the job card's)");
  check->add_option("--job-card", job_card, "signed job card from the researcher");
  check->add_option("--coordinator-key", coordinator_key, "pin the coordinator's key: 64 hex digits or a key file");
  check->add_flag("--plaintext", o.plaintext, "RESEARCH MODE: no CURVE");
  check->add_option("--key", o.key_file, "this worker's key file (fl-worker keygen)")->required();
  check->add_option("--policy", policy_file, "policy file (TOML) to check the terms against");
  double check_connect_timeout_s = 30;  // a person waits for the answer: shorter than run's
  check->add_option("--connect-timeout", check_connect_timeout_s, "give up after SECONDS")->capture_default_str();
  add_data_options(run, o, part);
  run->add_option("--model-cache", o.model_cache_dir,
                  "folder for TorchScript model files fetched from the coordinator "
                  "(default ~/.cache/fedledger/models)");
  run->add_option("--device", o.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  run->add_option("--threads", o.threads, "torch threads for local training")->capture_default_str();
  run->add_option("--heartbeat", o.heartbeat_s, "seconds between heartbeats")->capture_default_str();
  run->add_option("--connect-timeout", o.connect_timeout_s,
                  "give up when the coordinator has not answered registration after SECONDS (0: never)")
      ->capture_default_str();
  run->add_option("--receipts", o.receipts_file, "append verified ledger receipts to this JSON-lines file");
  std::string witnesses;
  run->add_option("--witness", witnesses,
                  "the federation's witnesses, KEY,KEY,... (64 hex digits or key files): check the final ledger "
                  "checkpoint each task carries and keep the highest (exit 4, with both as evidence, on a lower "
                  "or diverging one)");
  run->add_option("--witness-quorum", o.checkpoint_quorum, "cosignatures a checkpoint needs (with --witness)");
  run->add_option("--checkpoint", o.checkpoint_file,
                  "file holding the latest checkpoint (default: the --receipts file + .checkpoint.json)");
  run->add_option("--attack", attack,
                  "RESEARCH MODE: none | label_flip | sign_flip | gaussian | scaled | zero | noise | "
                  "replay_global | replay_noise | lazy | inflate_samples")
      ->capture_default_str();
  run->add_option("--attack-fraction", o.attack.lazy_fraction, "share of its data lazy trains on")
      ->check(CLI::Range(1e-6, 1.0))
      ->capture_default_str();
  run->add_option("--attack-samples", o.attack.claimed_samples, "sample count inflate_samples claims")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  run->add_option("--attack-scale", o.attack.scale, "factor for sign_flip / scaled")->capture_default_str();
  run->add_option("--attack-sigma", o.attack.sigma, "standard deviation for gaussian")->capture_default_str();
  run->add_option("--log-level", log_level, "trace | debug | info | warn | error")->capture_default_str();

  auto* fingerprint = app.add_subcommand(
      "fingerprint", "print the Merkle commitment to the local data that registration records");
  add_data_options(fingerprint, o, part);
  auto* prove = app.add_subcommand(
      "prove-example", "prove that an example is (or is not) in the committed local data");
  add_data_options(prove, o, part);
  fl::worker::ExampleQuery query;
  std::string proof_out;
  prove->add_option("--index", query.index, "the example at this position of the local data (from 0)");
  prove->add_option("--example", query.example_file,
                    "an example as a float32 .npy file (its values as loaded: normalised)");
  prove->add_option("--label", query.label, "the label of --example");
  prove->add_option("--digest", query.digest_hex, "an example digest (64 hex digits)");
  prove->add_option("--save-example", query.save_example,
                    "with --index: also write that example as a .npy file");
  prove->add_option("--out", proof_out, "proof file to write (JSON)")->required();
  for (auto* sub : {fingerprint, prove, check}) {
    sub->add_option("--log-level", log_level, "trace | debug | info | warn | error")->capture_default_str();
  }

  CLI11_PARSE(app, argc, argv);

  if (*keygen) {
    auto key = fl::worker::create_key_files(key_out, force);
    if (!key.ok()) return fail(key.error());
    std::cout << fl::common::to_hex(*key) << "\n";
    return 0;
  }
  if (auto s = fl::common::init_logging(log_level, "worker"); !s.ok()) return fail(s.error());
  if (auto s = parse_part(part, o); !s.ok()) return fail(s.error());
  if (*fingerprint) {
    auto text = fl::worker::fingerprint_local_data(o);
    if (!text.ok()) return fail(text.error());
    std::cout << *text << "\n";
    return 0;
  }
  if (*prove) {
    auto proof = fl::worker::prove_local_example(o, query);
    return proof.ok() ? write_proof(*proof, proof_out) : fail(proof.error());
  }
  const bool endpoint_given = endpoint_option->count() > 0 || check->count("--coordinator") > 0;
  if (auto s = pin_coordinator(job_card, coordinator_key, endpoint_given, o); !s.ok()) {
    return fail(s.error());
  }
  if (!policy_file.empty()) {
    auto policy = fl::worker::load_policy(policy_file);
    if (!policy.ok()) return fail(fl::with_context(policy.error(), "--policy"));
    o.policy = std::move(policy).value();
  }
  if (*check) {
    o.connect_timeout_s = check_connect_timeout_s;
    auto checked = fl::worker::check_job(o);
    return checked.ok() ? print_check(*checked) : fail(checked.error());
  }
  auto kind = fl::worker::parse_attack(attack);
  if (!kind.ok()) return fail(kind.error());
  o.attack.kind = *kind;
  o.attack.seed = o.partition_seed * 31 + static_cast<std::uint64_t>(o.part_index);
  if (o.attack.kind == fl::worker::AttackKind::kScaled && o.attack.scale == -1.0) o.attack.scale = 10.0;
  const bool noisy = o.attack.kind == fl::worker::AttackKind::kNoise || o.attack.kind == fl::worker::AttackKind::kReplayNoise;
  if (noisy && run->count("--attack-sigma") == 0) o.attack.sigma = 1e-2;
  o.stop_signal = &fl::worker::install_stop_handlers();
  if (!witnesses.empty()) {
    for (const auto& item : fl::worker::coordinator_endpoints(witnesses)) {
      auto key = fl::common::public_key_from_text(item);
      if (!key.ok()) return fail(fl::with_context(key.error(), "--witness '" + item + "' (64 hex digits or a key file)"));
      o.checkpoint_witnesses.push_back(*key);
    }
    if (o.checkpoint_quorum == 0 || o.checkpoint_quorum > o.checkpoint_witnesses.size()) {
      return fail(fl::make_error(fl::ErrorCode::kInvalidArgument,
                                 "--witness-quorum K (1 to " + std::to_string(o.checkpoint_witnesses.size()) +
                                     ", the consortium's quorum) is required with --witness"));
    }
    if (o.checkpoint_file.empty()) {
      if (o.receipts_file.empty()) {
        return fail(fl::make_error(fl::ErrorCode::kInvalidArgument,
                                   "--witness needs a file to keep the latest checkpoint in: --checkpoint FILE "
                                   "(or --receipts FILE, beside which it is kept)"));
      }
      o.checkpoint_file = o.receipts_file;
      o.checkpoint_file += ".checkpoint.json";
    }
  }
  auto s = fl::worker::run_worker(o);
  // Exit 3: the coordinator could not prove the pinned key (or refused this worker's key).
  if (!s.ok() && s.error().message.starts_with(fl::worker::kLedgerMisbehaviour)) return (fail(s.error()), 4);
  if (!s.ok()) return s.error().code == fl::ErrorCode::kBadSignature ? (fail(s.error()), 3) : fail(s.error());
  return 0;
}
