# smpack_inspect_weights: prints WeightFileReports as JSON for the weight-file
# oracle tests (tests/cli/test_weights_oracles.py). Included by tests/tools.
add_executable(smpack_inspect_weights ${CMAKE_CURRENT_LIST_DIR}/inspect_weights.cpp)
target_include_directories(smpack_inspect_weights PRIVATE ${PROJECT_SOURCE_DIR}/libpack/src)
target_link_libraries(smpack_inspect_weights PRIVATE smpack_lib smpack_warnings
                                                     nlohmann_json::nlohmann_json)
