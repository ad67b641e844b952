# SPDX-License-Identifier: Apache-2.0
add_library(outbox_sse_env STATIC ${CMAKE_SOURCE_DIR}/tests/integration/sse_env.c)
target_link_libraries(outbox_sse_env PUBLIC outbox_test_harness PkgConfig::HIREDIS
                      PkgConfig::RDKAFKA PkgConfig::EVENT)

outbox_integration_test(test_sse TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_sse.c
  LIBS outbox_sse_env outbox_sse_core)
add_dependencies(test_sse outbox-sse kafka-mock)

outbox_integration_test(test_sse_hostile TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_sse_hostile.c
  LIBS outbox_sse_env outbox_sse_core)
add_dependencies(test_sse_hostile outbox-sse kafka-mock)

outbox_integration_test(test_sse_tls TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_sse_tls.c
  LIBS outbox_sse_env outbox_sse_core)
add_dependencies(test_sse_tls outbox-sse kafka-mock)

outbox_integration_test(test_sse_workers TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_sse_workers.c
  LIBS outbox_sse_env outbox_sse_core)
add_dependencies(test_sse_workers outbox-sse kafka-mock)
