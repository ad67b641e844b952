# SPDX-License-Identifier: Apache-2.0
add_library(outbox_relay_env STATIC ${CMAKE_SOURCE_DIR}/tests/integration/relay_env.c)
target_link_libraries(outbox_relay_env PUBLIC outbox_test_harness PkgConfig::MARIADB)

outbox_integration_test(test_relay_flow TIMEOUT 900
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_flow.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_flow outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_relay_flow mysql-9.7 mariadb-11.8)

outbox_integration_test(test_relay_faults TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_faults.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_faults outbox-relay outbox-load outbox-verify kafka-mock)

outbox_integration_test(test_relay_chaos TIMEOUT 1200
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_chaos.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_chaos outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_relay_chaos mysql-9.7 mariadb-11.8)

outbox_integration_test(test_tls TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_tls.c
  LIBS outbox_relay_env)
add_dependencies(test_tls outbox-relay outbox-load outbox-verify kafka-mock)

outbox_integration_test(test_relay_outcomes TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_outcomes.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_outcomes outbox-relay outbox-load outbox-verify kafka-mock)

# Start-up with the Kafka checkpoint store: streaming in well under a
# second, no start-up request timed out (issue 12, part 5).
outbox_integration_test(test_relay_startup TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_startup.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_startup outbox-relay outbox-load outbox-verify kafka-mock)

# RESET BINARY LOGS AND GTIDS under a source without GTIDs (MySQL 9.7,
# gtid_mode=OFF; the test picks the server): said so, read from the start.
outbox_integration_test(test_relay_reset TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_reset.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_reset outbox-relay outbox-load outbox-verify kafka-mock)

# The differential value test: every column type the server has, the
# dump's value of each against SELECT's, and JSON payloads through Kafka
# (issue 11).
outbox_integration_test(test_relay_values TIMEOUT 180
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_values.c
  LIBS outbox_relay_env PkgConfig::CRYPTO)
add_dependencies(test_relay_values outbox-relay outbox-load kafka-mock)
outbox_server_variants(test_relay_values mysql-9.7 mariadb-11.8)
