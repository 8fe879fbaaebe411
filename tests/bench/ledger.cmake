# Ledger append and verify throughput beside libsodium's raw Ed25519 sign/verify rates,
# measured in the same run. Run: build-*/bin/ledger_bench (never part of ctest).
add_executable(ledger_bench ${CMAKE_CURRENT_LIST_DIR}/ledger_bench.cpp)
target_link_libraries(ledger_bench PRIVATE fl_ledger PkgConfig::SODIUM benchmark::benchmark)
fl_warnings(ledger_bench)
