# Every target of the project compiles with these; warnings are errors so that
# a warning never lands. Third-party headers are included as SYSTEM.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wno-missing-field-initializers)
