// .npy images, both from memory (parse_npy) and from a file (read_npy), which must agree.
#include <cstdint>

#include "fl/common/npy.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl::common;
  auto parsed = parse_npy({data, size}, "input");
  auto read = read_npy(fl::fuzz::in_memory_file({data, size}));
  FL_FUZZ_CHECK(parsed.ok() == read.ok());
  if (parsed.ok()) {
    FL_FUZZ_CHECK(parsed->shape == read->shape);
    FL_FUZZ_CHECK(parsed->values.size() == read->values.size());
    std::size_t count = 1;
    for (auto d : parsed->shape) count *= d;
    FL_FUZZ_CHECK(count == parsed->values.size());
  }
  return 0;
}
