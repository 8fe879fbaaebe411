// Aggregation rules against two references measured in the same run: the time to read the n*d
// input floats once with all threads (memory bandwidth: the floor for any rule), and for Krum,
// Multi-Krum, Bulyan and NNM the pairwise-distance Gram product alone. Counters:
//   x_read = rule time / read-once time, x_gram = rule time / Gram time.
// One n x d buffer (at most 100 x 1e6 floats = 400 MB) is shared by all cases; NNM adds another
// n x d, so the process stays under ~1 GB.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fl/coordinator/aggregation/distances.hpp"
#include "fl/coordinator/aggregation/rule.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using fl::coordinator::UpdateView;

constexpr std::size_t kMaxN = 100, kMaxD = 1'000'000;

// Uniform values in [-1, 1) from a fixed-seed generator, filled once.
const std::vector<float>& pool() {
  static const std::vector<float> data = [] {
    std::vector<float> v(kMaxN * kMaxD);
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i) {
      std::uint64_t z = static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + 12345;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      z ^= z >> 31;
      v[static_cast<std::size_t>(i)] = static_cast<float>(z >> 40) / 8388608.0f - 1.0f;
    }
    return v;
  }();
  return data;
}

std::vector<UpdateView> views(std::size_t n, std::size_t d) {
  std::vector<UpdateView> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i].values = std::span<const float>(pool()).subspan(i * d, d);
  return out;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Reads every value once with all threads; the best of five runs.
double read_once_seconds(std::size_t n, std::size_t d) {
  static std::map<std::pair<std::size_t, std::size_t>, double> cache;
  auto [it, fresh] = cache.try_emplace({n, d}, 1e30);
  if (!fresh) return it->second;
  const auto v = views(n, d);
  for (int rep = 0; rep < 5; ++rep) {
    const auto start = Clock::now();
    double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total)
    for (std::int64_t b = 0; b < static_cast<std::int64_t>(n * (d / 4096)); ++b) {
      const float* x = v[static_cast<std::size_t>(b) % n].values.data() +
                       (static_cast<std::size_t>(b) / n) * 4096;
      float s = 0;
      for (std::size_t c = 0; c < 4096; ++c) s += x[c];
      total += s;
    }
    benchmark::DoNotOptimize(total);
    it->second = std::min(it->second, seconds_since(start));
  }
  return it->second;
}

double gram_seconds(std::size_t n, std::size_t d) {
  static std::map<std::pair<std::size_t, std::size_t>, double> cache;
  auto [it, fresh] = cache.try_emplace({n, d}, 1e30);
  if (!fresh) return it->second;
  std::vector<std::span<const float>> rows;
  for (const auto& u : views(n, d)) rows.push_back(u.values);
  for (int rep = 0; rep < 2; ++rep) {
    const auto start = Clock::now();
    benchmark::DoNotOptimize(fl::coordinator::pairwise_squared_distances(rows).data());
    it->second = std::min(it->second, seconds_since(start));
  }
  return it->second;
}

void BM_Rule(benchmark::State& state, std::string spec, bool uses_gram) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  fl::coordinator::RuleOptions options;
  options.f = static_cast<int>(std::max<std::size_t>(1, n / 10));
  options.clip_norm = 100.0;
  auto rule = fl::coordinator::make_rule(spec, options);
  if (!rule.ok()) {
    state.SkipWithError(rule.error().to_string().c_str());
    return;
  }
  const auto v = views(n, d);
  const double read = read_once_seconds(n, d);
  const double gram = uses_gram ? gram_seconds(n, d) : 0.0;
  double total = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    auto out = (*rule)->aggregate(v);
    total += seconds_since(start);
    if (!out.ok()) {
      state.SkipWithError(out.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(out->data());
  }
  const double per_call = total / static_cast<double>(state.iterations());
  state.SetLabel((*rule)->name());
  state.counters["read_ms"] = read * 1e3;
  state.counters["x_read"] = per_call / read;
  if (uses_gram) {
    state.counters["gram_ms"] = gram * 1e3;
    state.counters["x_gram"] = per_call / gram;
  }
}

void BM_ReadOnce(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  for (auto _ : state) benchmark::DoNotOptimize(read_once_seconds(n, d));
  state.counters["read_ms"] = read_once_seconds(n, d) * 1e3;
  state.counters["GB_per_s"] = static_cast<double>(n * d * sizeof(float)) / read_once_seconds(n, d) / 1e9;
}

void BM_Gram(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<std::size_t>(state.range(1));
  std::vector<std::span<const float>> rows;
  for (const auto& u : views(n, d)) rows.push_back(u.values);
  const double read = read_once_seconds(n, d);
  double total = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    benchmark::DoNotOptimize(fl::coordinator::pairwise_squared_distances(rows).data());
    total += seconds_since(start);
  }
  state.counters["read_ms"] = read * 1e3;
  state.counters["x_read"] = total / static_cast<double>(state.iterations()) / read;
}

void shapes(benchmark::internal::Benchmark* b) {
  for (std::int64_t d : {100'000, 1'000'000}) {
    for (std::int64_t n : {10, 50, 100}) b->Args({n, d});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.3);
}

struct Case {
  const char* spec;
  bool uses_gram;
};

const Case kCases[] = {
    {"fedavg", false},          {"median", false},       {"trimmed_mean", false},
    {"krum", true},             {"multikrum", true},     {"bulyan", true},
    {"nnm+fedavg", true},       {"geomed", false},       {"cclip", false},
    {"bucketing+fedavg", false}, {"clip+fedavg", false}, {"arc+fedavg", false},
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("read_once", BM_ReadOnce)->Apply(shapes);
  benchmark::RegisterBenchmark("gram", BM_Gram)->Apply(shapes);
  for (const auto& c : kCases) {
    benchmark::RegisterBenchmark(c.spec, BM_Rule, std::string(c.spec), c.uses_gram)->Apply(shapes);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
