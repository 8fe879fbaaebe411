// fl-worker: keygen | run. Parses arguments and calls fl_worker.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "fl/common/crypto.hpp"
#include "fl/common/logging.hpp"
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
  run->add_option("--coordinator", o.coordinator, "coordinator endpoint")->capture_default_str();
  run->add_option("--key", o.key_file, "this worker's key file (fl-worker keygen)")->required();
  run->add_option("--data", o.data,
                 "dataset spec: idx:DIR (or a folder of IDX files), npz:FILE, csv:FILE?label=COLUMN, "
                 "cifar10:DIR, images:DIR; the same spec as the job's [data] spec")
      ->capture_default_str();
  run->add_option("--model-cache", o.model_cache_dir,
                  "folder for TorchScript model files fetched from the coordinator "
                  "(default ~/.cache/fedledger/models)");
  run->add_option("--partition", part, "this worker's share k/n of the training set")->capture_default_str();
  run->add_option("--partitioner", o.partition, "iid | dirichlet:ALPHA | shards:K")->capture_default_str();
  run->add_option("--partition-seed", o.partition_seed, "seed shared by all workers of a job")->capture_default_str();
  run->add_option("--max-samples", o.max_samples, "use at most this many local examples (0: all)");
  run->add_option("--device", o.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  run->add_option("--threads", o.threads, "torch threads for local training")->capture_default_str();
  run->add_option("--heartbeat", o.heartbeat_s, "seconds between heartbeats")->capture_default_str();
  run->add_option("--connect-timeout", o.connect_timeout_s,
                  "give up when the coordinator has not answered registration after SECONDS (0: never)")
      ->capture_default_str();
  run->add_option("--receipts", o.receipts_file, "append verified ledger receipts to this JSON-lines file");
  run->add_option("--attack", attack, "RESEARCH MODE: none | label_flip | sign_flip | gaussian | scaled")
      ->capture_default_str();
  run->add_option("--attack-scale", o.attack.scale, "factor for sign_flip / scaled")->capture_default_str();
  run->add_option("--attack-sigma", o.attack.sigma, "standard deviation for gaussian")->capture_default_str();
  run->add_option("--log-level", log_level, "trace | debug | info | warn | error")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (*keygen) {
    auto key = fl::worker::create_key_files(key_out, force);
    if (!key.ok()) return fail(key.error());
    std::cout << fl::common::to_hex(*key) << "\n";
    return 0;
  }
  if (auto s = fl::common::init_logging(log_level, "worker"); !s.ok()) return fail(s.error());
  if (auto s = parse_part(part, o); !s.ok()) return fail(s.error());
  auto kind = fl::worker::parse_attack(attack);
  if (!kind.ok()) return fail(kind.error());
  o.attack.kind = *kind;
  o.attack.seed = o.partition_seed * 31 + static_cast<std::uint64_t>(o.part_index);
  if (o.attack.kind == fl::worker::AttackKind::kScaled && o.attack.scale == -1.0) o.attack.scale = 10.0;
  o.stop_signal = &fl::worker::install_stop_handlers();
  auto s = fl::worker::run_worker(o);
  if (!s.ok()) return fail(s.error());
  return 0;
}
