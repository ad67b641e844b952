# SPDX-License-Identifier: Apache-2.0
# Fuzz targets (see tests/fuzz/README.md). In every build each target's
# LLVMFuzzerTestOneInput runs over its seed corpus, tests/fuzz/corpus/NAME,
# as the unit test NAME_corpus; with -DOUTBOX_FUZZ=ON (clang only, which
# instruments the whole build, see the top-level CMakeLists.txt) NAME is
# also built as a libFuzzer binary.
set(outbox_fuzz_targets
  "fuzz_token\;outbox_sse_core"
  "fuzz_pct\;outbox_sse_core"
  "fuzz_feed_json\;outbox_sse_core"
  "fuzz_binlog\;outbox_relay_core"
  "fuzz_mysql_json\;outbox_relay_core"
  "fuzz_cfg\;outbox_config"
  "fuzz_route\;outbox_sse_core")
# Seeds for fuzz_binlog from the real MySQL binlog files in ../shared,
# made at run time (never copied into the tree): every build replays them
# through the fuzz target's checks (fuzz_binlog_fixtures), and the bounded
# fuzz run starts from them too.
add_executable(fixture_seeds ${CMAKE_SOURCE_DIR}/tests/fuzz/fixture_seeds.c)
target_link_libraries(fixture_seeds PRIVATE outbox_relay_core)
set(fixture_seed_dir ${CMAKE_BINARY_DIR}/fuzz-fixture-seeds)
set(fixture_seed_cmd "rm -rf '${fixture_seed_dir}' && mkdir -p '${fixture_seed_dir}' && '$<TARGET_FILE:fixture_seeds>' '${fixture_seed_dir}' '${OUTBOX_SHARED_DIR}'/fixtures/mysql8/*.0*")

foreach(entry ${outbox_fuzz_targets})
  list(GET entry 0 name)
  list(GET entry 1 lib)
  set(src ${CMAKE_SOURCE_DIR}/tests/fuzz/${name}.c)
  add_executable(${name}_corpus ${src} ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus_main.c)
  target_link_libraries(${name}_corpus PRIVATE ${lib})
  add_test(NAME ${name}_corpus
           COMMAND ${name}_corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  set_tests_properties(${name}_corpus PROPERTIES LABELS unit TIMEOUT 120)
  if(OUTBOX_FUZZ)
    add_executable(${name} ${src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${lib})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    # A bounded run (tests/run.sh, label fuzz): new inputs and any crash go
    # to fuzz-work/ in the build folder; the seed folder is only read.
    set(work ${CMAKE_BINARY_DIR}/fuzz-work/${name})
    set(before "true")
    set(more "")
    if(name STREQUAL "fuzz_binlog")
      set(before "${fixture_seed_cmd}")
      set(more "'${fixture_seed_dir}'")
    endif()
    add_test(NAME ${name}_run
             COMMAND sh -c "${before} && mkdir -p '${work}' && exec \"$0\" '${work}' \
                 '${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name}' ${more} \
                 -max_total_time=${OUTBOX_FUZZ_SECONDS} -timeout=10 \
                 -rss_limit_mb=2048 -print_final_stats=1 \
                 -artifact_prefix='${work}-'" $<TARGET_FILE:${name}>)
    set_tests_properties(${name}_run PROPERTIES LABELS fuzz
                         TIMEOUT 600 ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endif()
endforeach()

add_test(NAME fuzz_binlog_fixtures
         COMMAND sh -c "${fixture_seed_cmd} && exec \"$0\" '${fixture_seed_dir}'"
                 $<TARGET_FILE:fuzz_binlog_corpus>)
set_tests_properties(fuzz_binlog_fixtures PROPERTIES LABELS unit TIMEOUT 120)
