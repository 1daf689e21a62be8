# The three ways a folder declares what it builds. Each folder under core/, service/,
# client/ and testing/ is one library; its unit tests and fuzz targets sit beside it and
# are declared in the same CMakeLists.txt (abseil's absl_cc_library / absl_cc_test).

# lakehose_library(<name> SOURCES <file>... [DEPS <target>...])
# One static library; everything includes from the repository root ("core/base/strings.h").
# A header-only folder passes no SOURCES and gets an INTERFACE library.
function(lakehose_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(${name} STATIC ${ARG_SOURCES})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# The test's name in ctest: the folder path with dots, then the binary ("core.base.base64_test").
function(lakehose_test_name out name)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REPLACE "/" "." prefix "${rel}")
  set(${out} "${prefix}.${name}" PARENT_SCOPE)
endfunction()

# lakehose_test(<name> DEPS <target>... [SOURCES <file>...] [TIMEOUT <s>])
# A GoogleTest binary from <name>.cc (or SOURCES) beside the code it tests, run by ctest.
# LAKEHOSE_SOURCE_DIR and LAKEHOSE_SHARED_DIR (../shared, the public test vectors) are
# defined for tests that read files.
function(lakehose_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    set(ARG_SOURCES ${name}.cc)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} lakehose_testing GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    LAKEHOSE_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    LAKEHOSE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  lakehose_test_name(test_name ${name})
  add_test(NAME ${test_name} COMMAND ${name})
  if(ARG_TIMEOUT)
    set_tests_properties(${test_name} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  endif()
endfunction()

# lakehose_fuzz(<name> DEPS <target>... [SECONDS <s>])
# A fuzz target from <name>_fuzz.cc (LLVMFuzzerTestOneInput) with its seed corpus in
# tests/fuzz/corpus/<name>/. In every build the corpus runs through it as a plain test
# (fuzz_corpus.<name>); with LAKEHOSE_FUZZ (clang) it is also built with libFuzzer and
# fuzzed for SECONDS (default 20) on a scratch copy of the corpus (fuzz.<name>).
function(lakehose_fuzz name)
  cmake_parse_arguments(ARG "" "SECONDS" "DEPS" ${ARGN})
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 20)
  endif()
  set(corpus ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name})
  add_executable(${name}_corpus_test ${PROJECT_SOURCE_DIR}/testing/fuzz_corpus_main.cc ${name}_fuzz.cc)
  target_link_libraries(${name}_corpus_test PRIVATE ${ARG_DEPS})
  add_test(NAME fuzz_corpus.${name} COMMAND ${name}_corpus_test ${corpus})
  if(LAKEHOSE_FUZZ)
    add_executable(${name}_fuzz ${name}_fuzz.cc)
    target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name}_fuzz PRIVATE ${ARG_DEPS})
    add_test(NAME fuzz.${name}
      COMMAND sh -c "rm -rf ${name}_corpus && cp -r ${corpus} ${name}_corpus && exec $<TARGET_FILE:${name}_fuzz> -max_total_time=${ARG_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${name}_corpus"
      WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  endif()
endfunction()
