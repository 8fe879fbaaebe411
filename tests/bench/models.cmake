# Local training step time: C++ (fl::models::train_local) against PyTorch's Python API.
add_executable(models_bench ${CMAKE_CURRENT_LIST_DIR}/models_bench.cpp)
target_link_libraries(models_bench PRIVATE fl_models benchmark::benchmark)
fl_use_torch(models_bench)
fl_warnings(models_bench)

# Runs both and prints the comparison table (never part of ctest). The script alternates C++
# and Python runs per configuration and keeps each side's fastest 20-step epoch: the machine is
# shared, load drifts, and interference only ever adds time.
add_custom_target(bench_models_compare
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/train_step_reference.py
          --cpp-bench $<TARGET_FILE:models_bench>
  DEPENDS models_bench
  USES_TERMINAL
  COMMENT "C++ train_local vs PyTorch (Python) training step, batch 64, 1 and 2 threads")
