// IDX files ((Fashion-)MNIST), plain or gzipped, as load_dataset reads them.
#include <cstdint>

#include "fl/models/idx.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto array = fl::models::read_idx(fl::fuzz::in_memory_file({data, size}));
  if (array.ok()) {
    std::int64_t total = 1;
    for (auto d : array->dims) total *= d;
    FL_FUZZ_CHECK(static_cast<std::size_t>(total) == array->data.size());
    (void)array->count();
  }
  return 0;
}
