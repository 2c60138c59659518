# Warnings as an interface target: every smpack target links it.
add_library(smpack_warnings INTERFACE)
target_compile_options(smpack_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(SMPACK_WERROR)
  target_compile_options(smpack_warnings INTERFACE -Werror)
endif()
