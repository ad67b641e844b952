outbox_integration_test(test_servers
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_servers.c
  LIBS PkgConfig::RDKAFKA)
add_dependencies(test_servers kafka-mock)
outbox_integration_test(test_schema
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_schema.c)
