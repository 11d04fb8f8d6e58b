# Every target of the project compiles with these; warnings are errors so that
# a warning never lands. Third-party headers are included as SYSTEM.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wno-missing-field-initializers)
# Clang checks lock discipline (base/thread_annotations.h): every GUARDED_BY
# member touched without its mutex, every REQUIRES not met, is an error.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(sluice_warnings INTERFACE -Wthread-safety)
endif()
