// Global-model files (checkpoints and final models): "FLMODEL1", u32 header length, a cereal
// header (job, round, model spec, layout, digest), then the raw float32 parameters to the end.
// The model digest that the ledger records is digest_of(parameters), so `fl-ledger trace`
// can name the round that produced any such file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/tensor_codec.hpp"

namespace fl::common {

inline constexpr char kModelFileMagic[8] = {'F', 'L', 'M', 'O', 'D', 'E', 'L', '1'};

struct ModelFileHeader {
  std::string job_id;
  std::uint64_t round = 0;  // the round that produced these parameters (0: initial model)
  std::string model;        // model spec, e.g. "mlp"
  TensorLayout layout;
  Digest digest{};          // digest_of(parameters)
};

struct ModelFile {
  ModelFileHeader header;
  std::vector<float> parameters;
};

// Written to a temporary file and renamed, so a reader never sees half a model.
Status save_model_file(const std::filesystem::path& path, const ModelFileHeader& header,
                       std::span<const float> parameters);
// Checks magic, header, the byte count against the layout and the digest.
Result<ModelFile> load_model_file(const std::filesystem::path& path);

}  // namespace fl::common
