# SPDX-License-Identifier: Apache-2.0
# The speed benchmark: built with everything else, but not a CTest test
# (speed is measured by benchmarks, not timed tests). tests/bench/run.sh
# runs it; tests/bench/README.md explains the figures.
add_executable(outbox-bench
  ${CMAKE_SOURCE_DIR}/tests/bench/bench_main.c
  ${CMAKE_SOURCE_DIR}/tests/bench/bench_db.c
  ${CMAKE_SOURCE_DIR}/tests/bench/bench_kafka.c
  ${CMAKE_SOURCE_DIR}/tests/bench/bench_stats.c
  ${CMAKE_SOURCE_DIR}/tests/bench/bench_binlog.c
  ${CMAKE_SOURCE_DIR}/tests/bench/bench_peer.c)
target_link_libraries(outbox-bench PRIVATE outbox_relay_env outbox_relay_core
  PkgConfig::RDKAFKA Threads::Threads)
target_compile_definitions(outbox-bench PRIVATE
  OUTBOX_BENCH_BUILD_DIR="${CMAKE_BINARY_DIR}"
  OUTBOX_BENCH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(outbox-bench outbox-relay outbox-load kafka-mock)

# --split: an LD_PRELOAD library loaded into the relay during the latency
# run, noting when each event was read, produced and acknowledged
# (tests/bench/bench_tap.c). Headers only: it calls the real functions
# through dlsym(RTLD_NEXT).
add_library(outbox-bench-tap SHARED ${CMAKE_SOURCE_DIR}/tests/bench/bench_tap.c)
target_include_directories(outbox-bench-tap PRIVATE ${MARIADB_INCLUDE_DIRS}
  ${RDKAFKA_INCLUDE_DIRS})
target_link_libraries(outbox-bench-tap PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(outbox-bench-tap PROPERTIES PREFIX "")
add_dependencies(outbox-bench outbox-bench-tap)
