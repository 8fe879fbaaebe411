// Global-model files (checkpoints, final models, --initial-model): magic, header, parameters.
#include <cstdint>

#include "fl/common/model_file.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl::common;
  auto file = load_model_file(fl::fuzz::in_memory_file({data, size}));
  if (file.ok()) {
    FL_FUZZ_CHECK(static_cast<std::int64_t>(file->parameters.size()) == file->header.layout.numel());
    FL_FUZZ_CHECK(digest_of(file->parameters) == file->header.digest);
  }
  return 0;
}
