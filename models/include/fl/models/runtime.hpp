// The compute runtime under local training: how many threads it uses and which BLAS libtorch
// loaded. Debian's libtorch calls the system libblas.so.3; with the reference BLAS instead of
// OpenBLAS (libopenblas0-pthread) training is ~19x slower, and OpenBLAS keeps its own thread
// pool, so a thread setting must reach it too or 8 workers on 2 cores oversubscribe the CPU.
#pragma once

#include <string>

namespace fl::models {

// Sets libtorch's intra-op threads and, when the BLAS is OpenBLAS, its thread count. This is
// the caller's knob (the worker uses 1 per process); the library never calls it by itself.
void set_compute_threads(int threads);

// Resolved path of the shared library that provides sgemm_ to libtorch, e.g.
// "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"; empty when none is found.
std::string blas_library_path();

inline bool blas_is_openblas() { return blas_library_path().find("openblas") != std::string::npos; }

}  // namespace fl::models
