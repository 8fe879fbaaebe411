// The compute runtime under local training: how many threads it uses and which BLAS libtorch
// loaded. Debian's libtorch calls the system libblas.so.3; with the reference BLAS instead of
// OpenBLAS (libopenblas0-pthread) training is ~16-19x slower, and OpenBLAS keeps its own
// thread pool, so a thread setting must reach it too or the CPU is oversubscribed.
#pragma once

#include <string>

namespace fl::models {

// Sets libtorch's intra-op (OpenMP) threads to `threads` and, when the BLAS is OpenBLAS, makes
// OpenBLAS single-threaded: libtorch already parallelises around it, and two thread pools on
// few cores slow each other down (2-4x measured). The caller's knob (the worker uses 1 per
// process); the library never calls it by itself. It also keeps freed tensor buffers in the
// malloc heap (no mmap/munmap per step), which training's repeated large allocations need.
void set_compute_threads(int threads);

// Resolved path of the shared library that provides sgemm_ to libtorch, e.g.
// "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"; empty when none is found.
std::string blas_library_path();

inline bool blas_is_openblas() { return blas_library_path().find("openblas") != std::string::npos; }

}  // namespace fl::models
