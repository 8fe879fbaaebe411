#include "fl/common/tensor_codec.hpp"

#include <cmath>

namespace fl::common {

std::int64_t TensorSpec::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::int64_t TensorLayout::numel() const {
  std::int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

std::string TensorLayout::describe() const {
  std::string out;
  for (const auto& t : tensors) {
    if (!out.empty()) out += ' ';
    out += t.name + '[';
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(t.shape[i]);
    }
    out += ']';
  }
  return out;
}

Digest TensorLayout::digest() const {
  Hasher h;
  h.u64(tensors.size());
  for (const auto& t : tensors) {
    h.text(t.name).u8(static_cast<std::uint8_t>(t.dtype)).u64(t.shape.size());
    for (auto d : t.shape) h.i64(d);
  }
  return h.finish();
}

Status validate_layout(const TensorLayout& layout) {
  if (layout.tensors.size() > kMaxTensors) {
    return make_error(ErrorCode::kLimitExceeded,
                      "layout has " + std::to_string(layout.tensors.size()) + " tensors (limit " +
                          std::to_string(kMaxTensors) + ")");
  }
  std::int64_t total = 0;
  for (const auto& t : layout.tensors) {
    if (t.dtype != DType::kFloat32) {
      return make_error(ErrorCode::kProtocol, "tensor '" + t.name + "' has unsupported dtype");
    }
    if (t.shape.size() > kMaxRank) {
      return make_error(ErrorCode::kLimitExceeded, "tensor '" + t.name + "' has rank " +
                                                       std::to_string(t.shape.size()));
    }
    std::int64_t n = 1;
    for (auto d : t.shape) {
      if (d < 0 || d > kMaxParameters) {
        return make_error(ErrorCode::kProtocol,
                          "tensor '" + t.name + "' has invalid dimension " + std::to_string(d));
      }
      n *= d;
      if (n > kMaxParameters) break;
    }
    total += n;
    if (n > kMaxParameters || total > kMaxParameters) {
      return make_error(ErrorCode::kLimitExceeded,
                        "layout exceeds " + std::to_string(kMaxParameters) + " parameters");
    }
  }
  return ok_status();
}

Result<std::span<const float>> view_payload(const TensorLayout& layout,
                                            std::span<const std::uint8_t> payload) {
  FL_RETURN_IF_ERROR(validate_layout(layout));
  const std::uint64_t expected = layout.payload_bytes();
  if (payload.size() != expected) {
    return make_error(ErrorCode::kProtocol, "payload has " + std::to_string(payload.size()) +
                                                " bytes, layout needs " + std::to_string(expected));
  }
  if (reinterpret_cast<std::uintptr_t>(payload.data()) % alignof(float) != 0) {
    return make_error(ErrorCode::kProtocol, "payload is not 4-byte aligned");
  }
  return std::span<const float>(reinterpret_cast<const float*>(payload.data()),
                                payload.size() / sizeof(float));
}

std::int64_t first_non_finite(std::span<const float> values) {
  // One branch-free pass to detect, then a second only when something is wrong.
  bool all_finite = true;
  for (float v : values) all_finite &= std::isfinite(v);
  if (all_finite) return -1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) return static_cast<std::int64_t>(i);
  }
  return -1;
}

Digest digest_of(std::span<const float> values) { return blake2b_256(as_bytes(values)); }

}  // namespace fl::common
