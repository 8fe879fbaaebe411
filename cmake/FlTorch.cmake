# fl_use_torch(target): compile and link `target` against libtorch (Debian's libtorch-dev 1.13).
#
# Debian's TorchConfig.cmake sets TORCH_LIBRARIES (the imported `torch` target, torch_library,
# c10) and TORCH_CXX_FLAGS (-D_GLIBCXX_USE_CXX11_ABI=1); the `torch` target carries the include
# directories as SYSTEM includes. Parsing <torch/torch.h> costs ~13 s per translation unit on the
# reference machine, so every torch target reuses one precompiled header built once in
# fl_torch_pch. GCC only accepts a PCH built with the same -fpic/-fpie setting, so executables are
# compiled as PIC (the linker still produces a PIE, the compiler default on Debian) to share it.
#
# Run-time BLAS: libtorch's matrix products go through libblas.so.3, which Debian resolves via
# update-alternatives; it must point at OpenBLAS (libopenblas0-pthread), not the reference BLAS,
# or training is ~19x slower. Checked here at configure time.

if(NOT TARGET torch)
  message(FATAL_ERROR "FlTorch.cmake: find_package(Torch) must run before including it")
endif()

separate_arguments(FL_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")

file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/fl_torch_pch.cpp
  CONTENT "// Carries the shared <torch/torch.h> precompiled header (cmake/FlTorch.cmake).\n")
add_library(fl_torch_pch OBJECT ${CMAKE_BINARY_DIR}/fl_torch_pch.cpp)
set_target_properties(fl_torch_pch PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(fl_torch_pch PUBLIC ${TORCH_LIBRARIES})
target_compile_options(fl_torch_pch PRIVATE ${FL_TORCH_CXX_FLAGS})
target_precompile_headers(fl_torch_pch PRIVATE <torch/torch.h>)
# -Wpedantic changes a predefined macro (__cpp_runtime_arrays), so the PCH and every user must
# agree on it; fl_use_torch adds it to users that do not call fl_warnings.
target_compile_options(fl_torch_pch PRIVATE -Wpedantic)

function(fl_use_torch target)
  target_link_libraries(${target} PRIVATE ${TORCH_LIBRARIES})
  target_compile_options(${target} PRIVATE ${FL_TORCH_CXX_FLAGS} -Wpedantic)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  else()
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  set_target_properties(${target} PROPERTIES PRECOMPILE_HEADERS_REUSE_FROM fl_torch_pch)
endfunction()

# The BLAS libtorch will load: warn when the libblas.so.3 alternative is not OpenBLAS.
get_filename_component(FL_BLAS_RESOLVED /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/libblas.so.3
  REALPATH)
if(CMAKE_LIBRARY_ARCHITECTURE AND NOT FL_BLAS_RESOLVED MATCHES "openblas")
  message(WARNING "libblas.so.3 resolves to ${FL_BLAS_RESOLVED}, not OpenBLAS: local training "
    "will be ~19x slower. Install libopenblas0-pthread (sudo apt-get install "
    "libopenblas0-pthread) or select it with update-alternatives --config "
    "libblas.so.3-${CMAKE_LIBRARY_ARCHITECTURE}.")
endif()
