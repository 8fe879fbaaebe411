// fl-worker's engine: loads its own share of the data (it never leaves the device), registers
// its key with the coordinator, and for each round task trains the model locally and sends back
// the signed delta. It checks the coordinator's signed acknowledgements and ledger receipts,
// re-registers after a coordinator restart, and never stops on a bad message: a round it cannot
// do is reported to the coordinator (TaskError) and the worker goes on with the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/worker/attack.hpp"
#include "fl/worker/policy.hpp"

namespace fl::worker {

// What a round task may ask of this device; a task outside them is refused with a TaskError
// naming the bound (and the flag that moves it).
struct TaskBounds {
  int max_epochs = 20;
  int max_batch_size = 4096;
  double max_learning_rate = 0.5;
  std::int64_t max_model_parameters = 50'000'000;
  // Distributed DP: this worker's noise share shrinks as 1/sqrt(m), so a task may not split the
  // noise over more than this many workers, nor ask for a noise multiplier below the minimum.
  std::uint32_t max_dp_workers = 1000;
  double min_noise_multiplier = 0;
};

// How the error that ends a worker holding proof of a rewound or forked ledger begins
// (fl-worker exits 4 on it).
inline constexpr std::string_view kLedgerMisbehaviour = "LEDGER MISBEHAVIOUR";

struct WorkerOptions {
  // The coordinator's endpoint, or the job's coordinators "tcp://A,tcp://B,...": the worker
  // moves to the next when the one it serves stays unreachable (a member took the job over).
  std::string coordinator = "tcp://127.0.0.1:5555";
  // The coordinator's Ed25519 key this worker pins (from --job-card or --coordinator-key):
  // CURVE accepts only a server proving it, and tasks, shutdowns and acknowledgements must be
  // signed by it. Required.
  std::optional<common::PublicKey> coordinator_key;
  // When the federation's members hold their own keys: one per endpoint of `coordinator`, in
  // its order (coordinator_key is then the first). Empty: coordinator_key for every endpoint.
  std::vector<common::PublicKey> coordinator_keys;
  std::string job_id;  // from the job card: the job this worker joins ("" takes the coordinator's)
  // From the job card: the terms and researcher it names; the coordinator must offer them.
  std::optional<common::Digest> card_terms_digest;
  std::optional<common::PublicKey> card_researcher;
  // --policy: the jobs this worker serves and what they may use; without one it consents to
  // any terms that are properly signed (and logs them).
  std::optional<WorkerPolicy> policy;
  bool plaintext = false;  // RESEARCH MODE: no CURVE (the job must say network.plaintext too)
  TaskBounds bounds;
  std::filesystem::path key_file;
  std::string data = "/usr/share/datasets/fashion-mnist";  // models::load_dataset spec (csv:, npz:...)
  int part_index = 0;  // this worker's share: part_index of num_parts
  int num_parts = 1;
  std::string partition = "iid";  // "iid", "dirichlet:ALPHA", "shards:K"
  std::uint64_t partition_seed = 1;
  std::int64_t max_samples = 0;  // 0: the whole share
  std::string device = "auto";
  int threads = 1;  // torch intra-op threads
  double heartbeat_s = 2.0;
  double connect_timeout_s = 300;  // give up registering after this long; 0: never
  // Set (to the signal number) by install_stop_handlers(); null: run until the job ends.
  const std::atomic<int>* stop_signal = nullptr;
  AttackOptions attack;
  std::filesystem::path receipts_file;  // JSON lines of verified receipts; empty: none
  // The federation's witnesses and how many must cosign (--witness, --witness-quorum): each
  // final checkpoint a round task carries is checked against them and the highest is kept in
  // `checkpoint_file`; a lower or diverging one ends the worker with both as evidence
  // (`<checkpoint_file>.misbehaviour.json`). No witnesses: checkpoints are not checked.
  std::vector<common::PublicKey> checkpoint_witnesses;  // see kLedgerMisbehaviour
  std::size_t checkpoint_quorum = 0;
  std::filesystem::path checkpoint_file;
  // Where TorchScript model files fetched from the coordinator are kept, named by digest.
  // Empty: $XDG_CACHE_HOME/fedledger/models, else ~/.cache/fedledger/models.
  std::filesystem::path model_cache_dir;
};

// "tcp://A,tcp://B" -> {"tcp://A", "tcp://B"} (spaces around commas ignored; one endpoint: itself).
std::vector<std::string> coordinator_endpoints(const std::string& list);

// Runs until the coordinator says the job is over or a stop signal arrives (Ok), or something
// unrecoverable happens (a malformed endpoint, a refused registration, no answer within
// connect_timeout_s, a missing key or data file). A coordinator that cannot prove the pinned
// key is kBadSignature. Never throws.
Status run_worker(const WorkerOptions& options);

}  // namespace fl::worker
