# fl_simulation: `fl-coordinator simulate`, N virtual workers in one process (research mode).
# Included from coordinator/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is coordinator/.
# simulator.cpp is its only torch translation unit (on the shared precompiled header).
set(FL_SIMULATION_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(fl_simulation
  ${FL_SIMULATION_DIR}/omniscient_attack.cpp
  ${FL_SIMULATION_DIR}/sweep_config.cpp
  ${FL_SIMULATION_DIR}/report.cpp
  ${FL_SIMULATION_DIR}/incentive_report.cpp
  ${FL_SIMULATION_DIR}/shapley_reference.cpp
  ${FL_SIMULATION_DIR}/progress.cpp
  ${FL_SIMULATION_DIR}/simulation.cpp
  ${FL_SIMULATION_DIR}/simulator.cpp
  ${FL_SIMULATION_DIR}/virtual_workers.cpp
)
add_library(fl::simulation ALIAS fl_simulation)
set_target_properties(fl_simulation PROPERTIES EXPORT_NAME simulation)
target_include_directories(fl_simulation PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(fl_simulation
  PUBLIC fl_common fl_aggregation fl_coordinator
  PRIVATE fl_coordinator_plots fl_coordinator_eval fl_ledger fl_models Threads::Threads)  # plots: the chart drawer
fl_use_torch(fl_simulation)
fl_warnings(fl_simulation)
install(TARGETS fl_simulation EXPORT FedLedgerTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
