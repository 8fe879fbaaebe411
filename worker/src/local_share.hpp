// This worker's share of the training set, chosen the one way `run`, `fingerprint` and
// `prove-example` all use (--data, --partition k/n, --partitioner, --partition-seed,
// --max-samples), so the committed data is exactly the data trained on. Private to fl_worker.
#pragma once

#include <cstdint>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/models/dataset.hpp"
#include "fl/worker/worker.hpp"

namespace fl::worker {

struct LocalShare {
  models::Dataset full;               // the whole training split, as loaded
  std::vector<std::int64_t> indices;  // this worker's examples of `full`, sorted
};

Result<LocalShare> select_local_share(const WorkerOptions& o);

}  // namespace fl::worker
