# SPDX-License-Identifier: Apache-2.0
# outbox-sse's speed benchmark (issue 4) and its side-by-side run against
# nchan and pushpin (issue 6): built with everything else, not a CTest test.
# tests/bench/sse_run.sh and tests/bench/sse_compare.sh run it;
# tests/bench/SSE.md explains the figures.
add_executable(outbox-sse-bench ${CMAKE_SOURCE_DIR}/tests/bench/sse_bench.c
  ${CMAKE_SOURCE_DIR}/tests/bench/sse_nchan.c
  ${CMAKE_SOURCE_DIR}/tests/bench/sse_pushpin.c
  ${CMAKE_SOURCE_DIR}/tests/bench/sse_fleet.c
  ${CMAKE_SOURCE_DIR}/tests/bench/sse_ptree.c)
target_link_libraries(outbox-sse-bench PRIVATE outbox_sse_env outbox_test_harness
  outbox_sse_core PkgConfig::HIREDIS PkgConfig::RDKAFKA PkgConfig::EVENT
  Threads::Threads m)
target_compile_definitions(outbox-sse-bench PRIVATE
  OUTBOX_BENCH_BUILD_DIR="${CMAKE_BINARY_DIR}")
add_dependencies(outbox-sse-bench outbox-sse kafka-mock)
