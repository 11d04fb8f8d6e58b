# Sanitizer builds exist to run the tests: forced inlining (base/inline.h)
# only costs them compile time.
if(SLUICE_SANITIZE OR SLUICE_TSAN OR SLUICE_FUZZ)
  add_compile_definitions(SLUICE_NO_FORCED_INLINE)
endif()
# ASan + UBSan for the whole tree. Any UB report aborts the test that hit it.
if(SLUICE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(SLUICE_SANITIZE=1)
endif()
# ThreadSanitizer for the whole tree (the tsan flavour, built with clang so the
# same build also runs the thread-safety analysis). scripts/test.sh sets
# TSAN_OPTIONS so that any report fails the test or broker that hit it.
if(SLUICE_TSAN)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SLUICE_TSAN needs clang")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  add_compile_definitions(SLUICE_SANITIZE=1 SLUICE_TSAN=1)
endif()
if(SLUICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ needs clang (libFuzzer)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
                      -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
