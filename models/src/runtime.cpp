#include "fl/models/runtime.hpp"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>

#include <filesystem>

namespace fl::models {

void set_compute_threads(int threads) {
  if (threads < 1) threads = 1;
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
  // libtorch parallelises around each BLAS call with its OpenMP pool; OpenBLAS's own pthread
  // pool on top of it competes with OpenMP's spin-waiting threads (measured on 2 cores: mlp
  // step 2.5 ms instead of 0.7 ms, cnn 40 ms instead of 22 ms at 2 threads). So OpenBLAS runs
  // single-threaded. It exports this call; the reference BLAS does not (nothing to set then).
  using SetThreads = void (*)(int);
  if (auto* set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(1);
  }
  // Each training step frees and re-allocates the same large activation and gradient buffers
  // (cnn: tens of MB). Above glibc's mmap threshold every one is a fresh mmap and page faults
  // on first touch; keeping them in the heap instead made the cnn step 41.5 -> 33.9 ms on one
  // thread (models_bench), ahead of PyTorch's Python API on the same machine.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

std::string blas_library_path() {
  void* symbol = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  const auto resolved = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::string(info.dli_fname) : resolved.string();
}

}  // namespace fl::models
