# What `cmake --install` ships, laid out like any C++ project:
#   bin/smpack, bin/smpack-harness (when built)
#   lib/libsmpack.a, include/smpack/*.h
#   lib/cmake/smpack/ (find_package(smpack) gives smpack::smpack), lib/pkgconfig/smpack.pc
#   share/smpack/templates/, share/man/man1/smpack*.1 (from the same CLI11 definitions
#   as --help), share/bash-completion/completions/smpack
# and the options for the parts that are optional: the Python module (python/).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
include(EmbedTemplates)

set(SMPACK_PYTHON AUTO CACHE STRING
    "Build the Python module (python/): ON, OFF or AUTO (when pybind11 is found)")

# --- the library, its headers and its CMake package --------------------------------
# The library is static, so its private dependencies become link-only parts of its
# exported interface; the package config finds them again (smpackConfig.cmake.in).
set_target_properties(smpack_lib PROPERTIES EXPORT_NAME smpack)
target_compile_features(smpack_lib INTERFACE cxx_std_20)  # the public headers use C++20
install(TARGETS smpack_lib smpack_warnings EXPORT smpackTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/libpack/include/smpack
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(SMPACK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/smpack)
install(EXPORT smpackTargets NAMESPACE smpack:: DESTINATION ${SMPACK_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/smpackConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/smpackConfig.cmake
                              INSTALL_DESTINATION ${SMPACK_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/smpackConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/smpackConfig.cmake
              ${PROJECT_BINARY_DIR}/smpackConfigVersion.cmake
        DESTINATION ${SMPACK_CMAKE_DIR})

# pkg-config: paths relative to the .pc file, so the installed tree can be moved.
set(SMPACK_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH SMPACK_PC_TO_PREFIX /${SMPACK_PKGCONFIG_DIR} /)
string(REGEX REPLACE "/$" "" SMPACK_PC_TO_PREFIX "${SMPACK_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/smpack.pc.in ${PROJECT_BINARY_DIR}/smpack.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/smpack.pc DESTINATION ${SMPACK_PKGCONFIG_DIR})

# --- the executables and their data ---------------------------------------------------
# tools/smpack installs bin/smpack itself.
if(TARGET smpack-harness)
  install(TARGETS smpack-harness RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/templates/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/smpack/templates)

# Man pages and bash completion come from the built CLI itself (`smpack generate-docs`,
# tools/smpack/cmd_docs.cpp walks the same CLI11 definitions that print --help).
set(SMPACK_DOCS_DIR ${PROJECT_BINARY_DIR}/generated/docs)
add_custom_command(
  OUTPUT ${SMPACK_DOCS_DIR}/stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${SMPACK_DOCS_DIR}/man1
  COMMAND smpack generate-docs --man-dir ${SMPACK_DOCS_DIR}/man1
          --bash-completion ${SMPACK_DOCS_DIR}/smpack.bash
  COMMAND ${CMAKE_COMMAND} -E touch ${SMPACK_DOCS_DIR}/stamp
  DEPENDS smpack
  COMMENT "Generating the smpack man pages and bash completion"
  VERBATIM)
add_custom_target(smpack_docs ALL DEPENDS ${SMPACK_DOCS_DIR}/stamp)
install(DIRECTORY ${SMPACK_DOCS_DIR}/man1 DESTINATION ${CMAKE_INSTALL_MANDIR})
install(FILES ${SMPACK_DOCS_DIR}/smpack.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME smpack)
