# Local training step time: C++ (fl::models::train_local) against PyTorch's Python API.
add_executable(models_bench ${CMAKE_CURRENT_LIST_DIR}/models_bench.cpp)
target_link_libraries(models_bench PRIVATE fl_models benchmark::benchmark)
fl_use_torch(models_bench)
fl_warnings(models_bench)

# Runs both and prints the comparison table (never part of ctest). Both sides report the fastest
# 20-step epoch seen in ~3 s: the machine is shared, and interference only ever adds time.
add_custom_target(bench_models_compare
  COMMAND models_bench --benchmark_format=console
          --benchmark_out=${CMAKE_CURRENT_BINARY_DIR}/models_bench.json --benchmark_out_format=json
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/train_step_reference.py
          --compare ${CMAKE_CURRENT_BINARY_DIR}/models_bench.json
  DEPENDS models_bench
  USES_TERMINAL
  COMMENT "C++ train_local vs PyTorch (Python) training step, batch 64, 1 and 2 threads")
