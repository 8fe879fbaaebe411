// fl-worker's engine: loads its own share of the data (it never leaves the device), registers
// its key with the coordinator, and for each round task trains the model locally and sends back
// the signed delta. It checks the coordinator's signed acknowledgements and ledger receipts,
// re-registers after a coordinator restart, and never stops on a bad message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "fl/common/result.hpp"
#include "fl/worker/attack.hpp"

namespace fl::worker {

struct WorkerOptions {
  std::string coordinator = "tcp://127.0.0.1:5555";
  std::filesystem::path key_file;
  std::filesystem::path data_dir = "/usr/share/datasets/fashion-mnist";
  int part_index = 0;  // this worker's share: part_index of num_parts
  int num_parts = 1;
  std::string partition = "iid";  // "iid", "dirichlet:ALPHA", "shards:K"
  std::uint64_t partition_seed = 1;
  std::int64_t max_samples = 0;  // 0: the whole share
  std::string device = "auto";
  int threads = 1;  // torch intra-op threads
  double heartbeat_s = 2.0;
  AttackOptions attack;
  std::filesystem::path receipts_file;  // JSON lines of verified receipts; empty: none
};

// Runs until the coordinator says the job is over (Ok) or something unrecoverable happens
// (a refused registration, a missing key or data file).
Status run_worker(const WorkerOptions& options);

}  // namespace fl::worker
