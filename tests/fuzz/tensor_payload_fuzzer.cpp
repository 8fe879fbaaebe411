// The tensor payload: a layout as a receiver gets it from a header (any ranks and dimensions)
// and the payload frame; view_payload must refuse every mismatch before reading a value.
// Input: u8 tensor count (mod 17), per tensor u8 rank (mod 11) and rank x i64 little-endian
// dims, u8 alignment shift (mod 4), then the payload bytes.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fl/common/tensor_codec.hpp"
#include "fuzz_support.hpp"

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t left;
  std::uint8_t u8() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v |= std::uint64_t{u8()} << (8 * k);
    return static_cast<std::int64_t>(v);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl::common;
  Reader in{data, size};
  TensorLayout layout;
  const std::size_t tensors = in.u8() % 17;
  for (std::size_t i = 0; i < tensors; ++i) {
    TensorSpec spec;
    spec.name = "t" + std::to_string(i);
    const std::size_t rank = in.u8() % 11;
    for (std::size_t k = 0; k < rank; ++k) spec.shape.push_back(in.i64());
    layout.tensors.push_back(std::move(spec));
  }
  const std::size_t shift = in.u8() % 4;
  // Frames arrive in aligned buffers; the shift tries the misaligned case too.
  std::vector<float> storage(in.left / sizeof(float) + 2);
  auto* base = reinterpret_cast<std::uint8_t*>(storage.data()) + shift;
  if (in.left > 0) std::memcpy(base, in.p, in.left);
  (void)layout.describe();
  (void)layout.digest();
  auto values = view_payload(layout, {base, in.left});
  if (values.ok()) {
    FL_FUZZ_CHECK(values->size_bytes() == in.left);
    FL_FUZZ_CHECK(static_cast<std::uint64_t>(layout.numel()) == values->size());
    (void)first_non_finite(*values);
    (void)digest_of(*values);
  }
  return 0;
}
