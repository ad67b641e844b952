# SPDX-License-Identifier: Apache-2.0
# The relay against live servers, per server kind (issue 11): start forms,
# resumes, heartbeats on every kind; what only MySQL has on MySQL alone.
outbox_integration_test(test_relay_mysql TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_mysql.c
  LIBS outbox_relay_env ONLY mysql-9.7)
add_dependencies(test_relay_mysql outbox-relay outbox-load outbox-verify kafka-mock)

outbox_integration_test(test_relay_start TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_start.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_start outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_relay_start mysql-9.7 mariadb-11.8)

outbox_integration_test(test_relay_resume TIMEOUT 900
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_resume.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_resume outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_relay_resume mysql-9.7 mariadb-11.8)

outbox_integration_test(test_relay_heartbeat TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_relay_heartbeat.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_heartbeat outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_relay_heartbeat mysql-9.7 mariadb-11.8)
