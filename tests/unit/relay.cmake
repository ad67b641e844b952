outbox_unit_test(test_position SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_position.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_outbox SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_outbox.c
                 LIBS outbox_relay_core outbox_config)
outbox_unit_test(test_binlog_fixtures SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_binlog_fixtures.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_crc32 SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_crc32.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_row_format SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_row_format.c
                 LIBS outbox_relay_core)
