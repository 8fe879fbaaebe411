// The torch side of the coordinator's validation set (scoring/validation.hpp), shared by
// `fl-coordinator run` (model_host.cpp) and `simulate` (simulator.cpp). Private header: it
// includes torch through the models library, so only those two units include it.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "fl/common/training_settings.hpp"
#include "fl/coordinator/scoring/validation.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"

namespace fl::coordinator {

// (validation, rest): the last `n` examples of `test` and the others, so what the scorers look
// at is never what the reported test accuracy counts. n is clamped to half of the test split.
std::pair<models::Dataset, models::Dataset> split_validation(const models::Dataset& test,
                                                             std::int64_t n);

// An oracle over `validation` with a model of its own (the job's model, on the same device).
// threads > 0 sets the compute threads before each use (simulate runs several in parallel).
std::unique_ptr<ValidationOracle> make_validation_oracle(std::unique_ptr<models::Model> model,
                                                         models::Dataset validation,
                                                         common::TrainingSettings training,
                                                         std::uint64_t seed, int threads = 0);

}  // namespace fl::coordinator
