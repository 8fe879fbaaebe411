// fl-worker fingerprint and prove-example: the commitment to this worker's share of the data
// (the fingerprint sent at registration and recorded on the ledger) and proofs that an example
// was, or was not, part of it (fl/common/dataset_commitment.hpp), checked by fl-ledger
// check-example against the recorded root. The share is chosen as `run` chooses it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "fl/common/dataset_commitment.hpp"
#include "fl/common/result.hpp"
#include "fl/worker/worker.hpp"

namespace fl::worker {

// "merkle:v1:<count>:<root hex>" over the share that `options` selects.
Result<std::string> fingerprint_local_data(const WorkerOptions& options);

// The example to prove: exactly one of a position in the local share (0 .. count-1, the order
// the share is trained in), a .npy file of its float32 values (as loaded: normalised) with its
// label, or its digest in hex.
struct ExampleQuery {
  std::optional<std::int64_t> index;
  std::filesystem::path example_file;
  std::optional<std::int64_t> label;  // with example_file
  std::string digest_hex;
  std::filesystem::path save_example;  // with index: also write the example there as .npy
};

Result<common::ExampleProof> prove_local_example(const WorkerOptions& options,
                                                 const ExampleQuery& query);

}  // namespace fl::worker
