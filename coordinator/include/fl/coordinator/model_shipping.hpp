// A TorchScript job's model file travels to the workers through the protocol: the coordinator
// reads it once, names its BLAKE2b-256 digest in every RoundTask, and serves the bytes to any
// registered worker that asks by that digest. Workers never need a hand-copied file.
#pragma once

#include "fl/common/result.hpp"
#include "fl/coordinator/round_engine.hpp"

namespace fl::coordinator {

// For a "torchscript:<path>" settings.model: reads the file into settings.model_file and sets
// settings.task_template.model_file_digest. Zoo models are left as they are. kNotFound/kIo
// name the file.
Status attach_model_file(EngineSettings& settings);

}  // namespace fl::coordinator
