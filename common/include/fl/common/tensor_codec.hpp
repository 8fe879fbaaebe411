// The tensor payload codec: a model (or a model update) travels as one contiguous float32
// buffer whose layout (names, shapes, dtype) rides in the message header. Decoding checks the
// layout against the byte count before anything is read and hands out a view, not a copy.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

enum class DType : std::uint8_t { kFloat32 = 1 };

struct TensorSpec {
  std::string name;
  std::vector<std::int64_t> shape;
  DType dtype = DType::kFloat32;

  std::int64_t numel() const;
  bool operator==(const TensorSpec&) const = default;
};

// Ordered list of tensors that make up a flat parameter vector.
struct TensorLayout {
  std::vector<TensorSpec> tensors;

  std::int64_t numel() const;
  std::uint64_t payload_bytes() const { return static_cast<std::uint64_t>(numel()) * sizeof(float); }
  bool operator==(const TensorLayout&) const = default;
  // "fc1.weight[200,784] fc1.bias[200] ..." for error messages and logs.
  std::string describe() const;
  Digest digest() const;
};

// Limits checked before allocation when a layout arrives from the network.
inline constexpr std::size_t kMaxTensors = 4096;
inline constexpr std::size_t kMaxRank = 8;
inline constexpr std::int64_t kMaxParameters = std::int64_t{1} << 31;  // 8 GiB of float32

// Checks counts, ranks, non-negative dims and the parameter limit.
Status validate_layout(const TensorLayout& layout);

// Views `payload` as float32 values after checking its size against the layout and its
// alignment. Fails with kProtocol naming expected and actual byte counts.
Result<std::span<const float>> view_payload(const TensorLayout& layout,
                                            std::span<const std::uint8_t> payload);

inline std::span<const std::uint8_t> as_bytes(std::span<const float> values) {
  return {reinterpret_cast<const std::uint8_t*>(values.data()), values.size_bytes()};
}

// Index of the first non-finite value, or -1 when all are finite.
std::int64_t first_non_finite(std::span<const float> values);

Digest digest_of(std::span<const float> values);

}  // namespace fl::common
