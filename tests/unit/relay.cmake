outbox_unit_test(test_position SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_position.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_outbox SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_outbox.c
                 LIBS outbox_relay_core outbox_config)
outbox_unit_test(test_binlog_fixtures SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_binlog_fixtures.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_mysql_json SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_mysql_json.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_binlog_gtid SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_binlog_gtid.c
                 LIBS outbox_relay_core)
