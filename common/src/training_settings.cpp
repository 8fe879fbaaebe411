#include "fl/common/training_settings.hpp"

#include <algorithm>
#include <array>

#include <string>
#include <variant>

namespace fl::common {

namespace {

struct Bound {
  const char* key;
  std::variant<int TrainingSettings::*, std::int64_t TrainingSettings::*,
               double TrainingSettings::*>
      field;
  double min;
  double max;
};

// The one set of limits for training settings, wherever they come from.
const Bound kBounds[] = {
    {"epochs", &TrainingSettings::epochs, 1, 10000},
    {"batch_size", &TrainingSettings::batch_size, 1, 1 << 20},
    {"learning_rate", &TrainingSettings::learning_rate, 1e-12, 100},
    {"momentum", &TrainingSettings::momentum, 0, 0.9999},
    {"weight_decay", &TrainingSettings::weight_decay, 0, 1},
    {"max_steps", &TrainingSettings::max_steps, -1, 1e12},
};

Status check_extra(const TrainingSettings& s, const std::string& where_max_steps) {
  if (s.max_steps == 0) {
    return make_error(ErrorCode::kInvalidArgument, where_max_steps + " must be -1 or > 0");
  }
  return ok_status();
}

}  // namespace

Status read_training_settings(const ConfigTable& t, TrainingSettings& out) {
  for (const auto& b : kBounds) {
    FL_RETURN_IF_ERROR(std::visit(
        [&](auto field) -> Status {
          auto& value = out.*field;
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, double>) {
            FL_ASSIGN_OR_RETURN(value, t.number(b.key, value, b.min, b.max));
          } else {
            FL_ASSIGN_OR_RETURN(auto v, t.integer(b.key, value, static_cast<std::int64_t>(b.min),
                                                  static_cast<std::int64_t>(b.max)));
            value = static_cast<T>(v);
          }
          return ok_status();
        },
        b.field));
  }
  return check_extra(out, t.where("max_steps"));
}

Status check_training_settings(const TrainingSettings& s) {
  for (const auto& b : kBounds) {
    const double v = std::visit([&](auto field) { return static_cast<double>(s.*field); }, b.field);
    if (!(v >= b.min && v <= b.max)) {
      return make_error(ErrorCode::kInvalidArgument, std::string("training.") + b.key + " is " +
                                                         std::to_string(v) + ", outside [" +
                                                         std::to_string(b.min) + ", " +
                                                         std::to_string(b.max) + "]");
    }
  }
  return check_extra(s, "training.max_steps");
}

std::uint64_t local_training_seed(std::uint64_t task_seed, const PublicKey& worker) {
  std::array<std::uint8_t, 8 + sizeof(PublicKey)> bytes{};
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(task_seed >> (8 * i));
  std::copy(worker.begin(), worker.end(), bytes.begin() + 8);
  const Digest d = blake2b_256(bytes);
  std::uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed |= static_cast<std::uint64_t>(d[static_cast<std::size_t>(i)]) << (8 * i);
  return seed;
}

}  // namespace fl::common
