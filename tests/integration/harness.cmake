# SPDX-License-Identifier: Apache-2.0
outbox_integration_test(test_servers
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_servers.c
  LIBS PkgConfig::RDKAFKA)
add_dependencies(test_servers kafka-mock)
outbox_server_variants(test_servers mysql-9.7 mariadb-11.8)
outbox_integration_test(test_schema
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_schema.c)
