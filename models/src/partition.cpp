#include "fl/models/partition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>
#include <numeric>
#include <random>

namespace fl::models {
namespace {

// A seeded source whose every draw is defined here (std:: distributions differ between
// standard libraries), so a seed names the same split everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  // Uniform in [0, bound), bound > 0; the modulo bias is below bound / 2^64, negligible here.
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }
  double uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {  // Box-Muller
    const double u1 = 1.0 - uniform01();
    const double u2 = uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // Gamma(shape, 1): Marsaglia and Tsang 2000, with the shape < 1 boost.
  double gamma(double shape) {
    if (shape < 1.0) {
      const double u = 1.0 - uniform01();
      return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = 0;
      double v = 0;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = 1.0 - uniform01();
      if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
    }
  }
  template <typename T>
  void shuffle(std::vector<T>& items) {  // Fisher-Yates
    for (std::size_t i = items.size(); i > 1; --i) {
      std::swap(items[i - 1], items[below(i)]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

using Parts = std::vector<std::vector<std::int64_t>>;

// Splits `items` into `parts` consecutive runs whose sizes differ by at most one.
void deal_evenly(const std::vector<std::int64_t>& items, int parts, Parts& out) {
  const auto n = static_cast<std::int64_t>(items.size());
  std::int64_t begin = 0;
  for (int p = 0; p < parts; ++p) {
    const std::int64_t end = n * (p + 1) / parts;
    out[p].insert(out[p].end(), items.begin() + begin, items.begin() + end);
    begin = end;
  }
}

Parts split_iid(std::int64_t n, int parts, Rng& rng) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);
  Parts out(parts);
  deal_evenly(order, parts, out);
  return out;
}

// Hsu et al. 2019: for each class, proportions over parts ~ Dir(alpha).
Parts split_dirichlet(std::span<const std::int64_t> labels, int num_classes, int parts,
                      double alpha, Rng& rng) {
  std::vector<std::vector<std::int64_t>> by_class(num_classes);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    by_class[labels[i]].push_back(static_cast<std::int64_t>(i));
  }
  Parts out(parts);
  std::vector<double> weights(parts);
  for (auto& members : by_class) {
    rng.shuffle(members);
    double sum = 0;
    for (double& w : weights) sum += (w = rng.gamma(alpha));
    if (sum <= 0) {  // every draw underflowed (tiny alpha): give the class to one part
      std::fill(weights.begin(), weights.end(), 0.0);
      weights[rng.below(parts)] = sum = 1.0;
    }
    const auto n = static_cast<double>(members.size());
    double cumulative = 0;
    std::size_t begin = 0;
    for (int p = 0; p < parts; ++p) {
      cumulative += weights[p];
      const std::size_t end = p + 1 == parts
                                  ? members.size()
                                  : std::min(members.size(),
                                             static_cast<std::size_t>(std::llround(n * cumulative / sum)));
      out[p].insert(out[p].end(), members.begin() + begin, members.begin() + end);
      begin = std::max(begin, end);
    }
  }
  // Small alpha can leave a part empty; give it one example from the largest part.
  for (auto& part : out) {
    if (!part.empty()) continue;
    auto largest = std::max_element(out.begin(), out.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    part.push_back(largest->back());
    largest->pop_back();
  }
  return out;
}

// McMahan et al. 2017: sort by label, cut into parts * k shards, deal k shards to each part.
Parts split_shards(std::span<const std::int64_t> labels, int parts, int shards_per_part,
                   Rng& rng) {
  std::vector<std::int64_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t a, std::int64_t b) { return labels[a] < labels[b]; });
  const int num_shards = parts * shards_per_part;
  std::vector<int> shard_ids(num_shards);
  std::iota(shard_ids.begin(), shard_ids.end(), 0);
  rng.shuffle(shard_ids);
  const auto n = static_cast<std::int64_t>(order.size());
  Parts out(parts);
  for (int s = 0; s < num_shards; ++s) {
    const int shard = shard_ids[s];
    const std::int64_t begin = n * shard / num_shards;
    const std::int64_t end = n * (shard + 1) / num_shards;
    auto& part = out[s / shards_per_part];
    part.insert(part.end(), order.begin() + begin, order.begin() + end);
  }
  return out;
}

Result<double> parse_number(std::string_view text, std::string_view spec) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "partition \"" + std::string(spec) + "\": \"" + std::string(text) +
                          "\" is not a number");
  }
  return value;
}

}  // namespace

Result<PartitionSpec> parse_partition(std::string_view text) {
  const auto colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const bool has_arg = colon != std::string_view::npos;
  const std::string_view arg = has_arg ? text.substr(colon + 1) : std::string_view();
  PartitionSpec spec;
  if (kind == "iid" && !has_arg) {
    spec.kind = PartitionKind::kIid;
  } else if (kind == "dirichlet") {
    spec.kind = PartitionKind::kDirichlet;
    if (has_arg) {
      FL_ASSIGN_OR_RETURN(spec.alpha, parse_number(arg, text));
    }
    if (!(spec.alpha > 0) || !std::isfinite(spec.alpha)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "partition \"" + std::string(text) + "\": alpha must be positive");
    }
  } else if (kind == "shards") {
    spec.kind = PartitionKind::kShards;
    if (has_arg) {
      FL_ASSIGN_OR_RETURN(const double k, parse_number(arg, text));
      if (k < 1 || k > 1e6 || k != std::floor(k)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "partition \"" + std::string(text) +
                              "\": shards per part must be a whole number >= 1");
      }
      spec.shards_per_part = static_cast<int>(k);
    }
  } else {
    return make_error(ErrorCode::kInvalidArgument,
                      "partition \"" + std::string(text) +
                          "\": unknown; expected iid, dirichlet:<alpha> or shards:<k>");
  }
  return spec;
}

std::string to_string(const PartitionSpec& spec) {
  switch (spec.kind) {
    case PartitionKind::kIid:
      return "iid";
    case PartitionKind::kDirichlet: {
      char buffer[32];
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, spec.alpha);
      return "dirichlet:" + std::string(buffer, result.ptr);
    }
    case PartitionKind::kShards:
      return "shards:" + std::to_string(spec.shards_per_part);
  }
  return "unknown";
}

Result<std::vector<std::vector<std::int64_t>>> partition(std::span<const std::int64_t> labels,
                                                         int num_classes, int num_parts,
                                                         const PartitionSpec& spec) {
  const auto n = static_cast<std::int64_t>(labels.size());
  const std::string where = "partition " + to_string(spec);
  if (num_parts < 1 || num_classes < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      where + ": need at least one part and one class (got " +
                          std::to_string(num_parts) + " parts, " + std::to_string(num_classes) +
                          " classes)");
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": label " + std::to_string(labels[i]) + " at index " +
                            std::to_string(i) + " outside [0, " + std::to_string(num_classes) +
                            ")");
    }
  }
  std::int64_t needed = num_parts;
  if (spec.kind == PartitionKind::kShards) {
    if (spec.shards_per_part < 1) {
      return make_error(ErrorCode::kInvalidArgument, where + ": shards per part must be >= 1");
    }
    needed = std::int64_t{num_parts} * spec.shards_per_part;
  }
  if (spec.kind == PartitionKind::kDirichlet && !(spec.alpha > 0 && std::isfinite(spec.alpha))) {
    return make_error(ErrorCode::kInvalidArgument, where + ": alpha must be positive");
  }
  if (n < needed) {
    return make_error(ErrorCode::kPrecondition,
                      where + ": " + std::to_string(n) + " examples cannot give " +
                          std::to_string(num_parts) + " non-empty parts (need at least " +
                          std::to_string(needed) + ")");
  }

  Rng rng(spec.seed);
  Parts parts;
  switch (spec.kind) {
    case PartitionKind::kIid:
      parts = split_iid(n, num_parts, rng);
      break;
    case PartitionKind::kDirichlet:
      parts = split_dirichlet(labels, num_classes, num_parts, spec.alpha, rng);
      break;
    case PartitionKind::kShards:
      parts = split_shards(labels, num_parts, spec.shards_per_part, rng);
      break;
  }
  for (auto& part : parts) std::sort(part.begin(), part.end());
  return parts;
}

Result<std::vector<std::int64_t>> worker_share(std::span<const std::int64_t> labels, int num_classes,
                                               const PartitionSpec& spec, int k, int n,
                                               std::int64_t max_samples) {
  if (n < 1 || k < 0 || k >= n) {
    return make_error(ErrorCode::kInvalidArgument,
                      "part " + std::to_string(k) + " of " + std::to_string(n) + ": need 0 <= k < n");
  }
  FL_ASSIGN_OR_RETURN(auto parts, partition(labels, num_classes, n, spec));
  auto share = std::move(parts[static_cast<std::size_t>(k)]);
  if (max_samples > 0 && static_cast<std::int64_t>(share.size()) > max_samples) {
    std::mt19937_64 rng(spec.seed * 0x9e3779b97f4a7c15ULL + 1000 + static_cast<std::uint64_t>(k));
    std::shuffle(share.begin(), share.end(), rng);
    share.resize(static_cast<std::size_t>(max_samples));
    std::sort(share.begin(), share.end());
  }
  return share;
}

}  // namespace fl::models
