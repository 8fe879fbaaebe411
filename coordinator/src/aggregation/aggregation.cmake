# fl_aggregation: Byzantine-robust aggregation rules on flat float vectors (Eigen + OpenMP, no
# torch). Included from coordinator/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is coordinator/.
set(FL_AGGREGATION_DIR ${CMAKE_CURRENT_LIST_DIR})
fl_module_library(fl_aggregation EXPORT_NAME aggregation SOURCES
  ${FL_AGGREGATION_DIR}/batch.cpp
  ${FL_AGGREGATION_DIR}/distances.cpp
  ${FL_AGGREGATION_DIR}/column_sort.cpp
  ${FL_AGGREGATION_DIR}/coordinate_rules.cpp
  ${FL_AGGREGATION_DIR}/krum.cpp
  ${FL_AGGREGATION_DIR}/iterative_rules.cpp
  ${FL_AGGREGATION_DIR}/preaggregation.cpp
  ${FL_AGGREGATION_DIR}/make_rule.cpp
  ${FL_AGGREGATION_DIR}/aggregate_file.cpp
  ${FL_AGGREGATION_DIR}/rule_config.cpp
  ${FL_AGGREGATION_DIR}/rule_registry.cpp
  ${FL_AGGREGATION_DIR}/../contribution.cpp  # contribution scores: torch-free, shared with the simulator
  ${FL_AGGREGATION_DIR}/../scoring/validation_scorers.cpp
  ${FL_AGGREGATION_DIR}/../scoring/shapley.cpp
)
target_link_libraries(fl_aggregation
  PUBLIC fl_common
  PRIVATE Eigen3::Eigen OpenMP::OpenMP_CXX)
# The rules parallelise over coordinates themselves; Eigen's own threading would nest inside.
target_compile_definitions(fl_aggregation PRIVATE EIGEN_DONT_PARALLELIZE)
