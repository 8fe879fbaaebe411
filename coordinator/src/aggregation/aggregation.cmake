# fl_aggregation: Byzantine-robust aggregation rules on flat float vectors (Eigen + OpenMP, no
# torch). Included from coordinator/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is coordinator/.
set(FL_AGGREGATION_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(fl_aggregation
  ${FL_AGGREGATION_DIR}/batch.cpp
  ${FL_AGGREGATION_DIR}/distances.cpp
  ${FL_AGGREGATION_DIR}/column_sort.cpp
  ${FL_AGGREGATION_DIR}/coordinate_rules.cpp
  ${FL_AGGREGATION_DIR}/krum.cpp
  ${FL_AGGREGATION_DIR}/iterative_rules.cpp
  ${FL_AGGREGATION_DIR}/preaggregation.cpp
  ${FL_AGGREGATION_DIR}/make_rule.cpp
  ${FL_AGGREGATION_DIR}/aggregate_file.cpp
)
add_library(fl::aggregation ALIAS fl_aggregation)
set_target_properties(fl_aggregation PROPERTIES EXPORT_NAME aggregation)
target_include_directories(fl_aggregation PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(fl_aggregation
  PUBLIC fl_common
  PRIVATE Eigen3::Eigen OpenMP::OpenMP_CXX)
# The rules parallelise over coordinates themselves; Eigen's own threading would nest inside.
target_compile_definitions(fl_aggregation PRIVATE EIGEN_DONT_PARALLELIZE)
fl_warnings(fl_aggregation)
install(TARGETS fl_aggregation EXPORT FedLedgerTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
