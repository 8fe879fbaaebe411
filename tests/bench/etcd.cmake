# Appends to the etcd-replicated ledger (3 members on loopback, started by the benchmark)
# beside a raw 1 KiB etcd put through the same client, measured in the same run.
# Run: build-*/bin/etcd_append_bench [appends] [members] (never part of ctest).
add_executable(etcd_append_bench ${CMAKE_CURRENT_LIST_DIR}/etcd_append_bench.cpp)
target_link_libraries(etcd_append_bench PRIVATE fl_ledger fl_test_etcd)
fl_warnings(etcd_append_bench)
