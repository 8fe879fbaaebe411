// Time per local training step (SGD, batch 64, cross-entropy) of the zoo models through
// fl::models::train_local, at 1 and 2 libtorch threads (set_compute_threads). The PyTorch (Python API) reference is
// tests/bench/train_step_reference.py; `cmake --build <build> --target bench_models_compare`
// runs both, alternating, and prints them side by side with the ratio.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <numeric>

#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"

namespace {

constexpr int kBatch = 64;
constexpr int kStepsPerIteration = 20;

const fl::models::Dataset& training_set() {
  static const fl::models::Dataset data = [] {
    auto loaded = fl::models::load_dataset(fl::models::kDefaultFashionMnistDir,
                                           fl::models::Split::kTrain);
    if (!loaded.ok()) throw std::runtime_error(loaded.error().to_string());
    return std::move(loaded).value();
  }();
  return data;
}

void train_step(benchmark::State& state, const char* spec) {
  const int threads = static_cast<int>(state.range(0));
  fl::models::set_compute_threads(threads);  // libtorch threads; OpenBLAS single-threaded
  const auto& data = training_set();
  auto model = std::move(fl::models::make_model(spec, 1)).value();
  std::vector<std::int64_t> indices(kBatch * kStepsPerIteration);
  std::iota(indices.begin(), indices.end(), 0);
  fl::models::TrainOptions options;
  options.batch_size = kBatch;
  options.learning_rate = 0.05;
  // Warm-up: allocator, kernels.
  if (auto warm = fl::models::train_local(*model, data, indices, options); !warm.ok()) {
    state.SkipWithError(warm.error().to_string().c_str());
    return;
  }

  // One iteration is one train_local call of kStepsPerIteration steps. ms_per_step is the
  // fastest iteration (the reference script takes the fastest 20-step epoch the same way: on a
  // shared machine interference only adds time); ms_per_step_mean is the mean.
  // cpu_ms_per_step is process CPU time per step (all threads), less sensitive to other load.
  double seconds = 0;
  double fastest = 1e30;
  double fastest_cpu = 1e30;
  std::int64_t steps = 0;
  for (auto _ : state) {
    ++options.seed;
    const std::clock_t cpu_started = std::clock();
    const auto result = fl::models::train_local(*model, data, indices, options).value();
    const double cpu = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
    seconds += result.seconds;
    steps += result.steps;
    fastest = std::min(fastest, result.seconds / static_cast<double>(result.steps));
    fastest_cpu = std::min(fastest_cpu, cpu / static_cast<double>(result.steps));
    benchmark::DoNotOptimize(result.mean_loss);
  }
  state.counters["ms_per_step"] = steps > 0 ? 1e3 * fastest : 0;
  state.counters["cpu_ms_per_step"] = steps > 0 ? 1e3 * fastest_cpu : 0;
  state.counters["ms_per_step_mean"] = steps > 0 ? 1e3 * seconds / static_cast<double>(steps) : 0;
  state.counters["threads"] = threads;
  state.SetItemsProcessed(steps * kBatch);
}

void mlp_train_step(benchmark::State& state) { train_step(state, "mlp"); }
void cnn_train_step(benchmark::State& state) { train_step(state, "cnn"); }

BENCHMARK(mlp_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(cnn_train_step)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  std::fprintf(stderr, "BLAS: %s\n", fl::models::blas_library_path().c_str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
