# Aggregation rules at n in {10, 50, 100}, d in {1e5, 1e6}, each beside the time to read the
# n*d floats once (memory bandwidth, measured in the same run) and, for the distance-based rules,
# beside the Gram product alone. Run: build-*/bin/aggregation_bench (never part of ctest).
add_executable(aggregation_bench ${CMAKE_CURRENT_LIST_DIR}/aggregation_bench.cpp)
target_link_libraries(aggregation_bench PRIVATE fl_aggregation benchmark::benchmark OpenMP::OpenMP_CXX)
fl_warnings(aggregation_bench)
