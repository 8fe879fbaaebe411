# The coordinator under load: a load generator of many workers over real ZeroMQ connections,
# beside BLAKE2b, Ed25519 and raw ZeroMQ rates measured in the same run.
# Run: build/bin/ingest_bench primitives | ingest W MB | scale C S ROUNDS P (never part of ctest).
add_executable(ingest_bench ${CMAKE_CURRENT_LIST_DIR}/ingest_bench.cpp)
target_link_libraries(ingest_bench PRIVATE fl_coordinator fl_common PkgConfig::SODIUM)
fl_warnings(ingest_bench)

# A hostile participant for deploy/hostile.sh (garbage, replayed registrations, junk, long
# layouts, sybils).
add_executable(hostile_peer ${CMAKE_CURRENT_LIST_DIR}/hostile_peer.cpp)
target_link_libraries(hostile_peer PRIVATE fl_common)
fl_warnings(hostile_peer)
