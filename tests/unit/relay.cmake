# SPDX-License-Identifier: Apache-2.0
outbox_unit_test(test_position SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_position.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_resume SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_resume.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_outbox SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_outbox.c
                 LIBS outbox_relay_core outbox_config)
outbox_unit_test(test_binlog_fixtures SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_binlog_fixtures.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_mysql_json SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_mysql_json.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_binlog_gtid SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_binlog_gtid.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_dump_fixtures SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dump_fixtures.c
                 LIBS outbox_relay_core)

# The real binary: `outbox-relay dump` on fixture 08 prints its three rows
# with the GTID; a dump without --binlog-file is a usage error (status 2).
add_test(NAME dump_cli
         COMMAND outbox-relay dump --all-tables --binlog-file
                 ${OUTBOX_SHARED_DIR}/fixtures/mysql8/08_percona-operator_ps-8.4.10_gtid_binlog.000003)
set_tests_properties(dump_cli PROPERTIES LABELS unit TIMEOUT 60
  PASS_REGULAR_EXPRESSION "\"gtid\":\"ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3\",\"table\":\"t.a\",\"op\":\"insert\",\"before\":null,\"after\":{\"@1\":3}}")
add_test(NAME dump_cli_usage
         COMMAND sh -c "\"$0\" dump --all-tables; test $? -eq 2" $<TARGET_FILE:outbox-relay>)
set_tests_properties(dump_cli_usage PROPERTIES LABELS unit TIMEOUT 60)
outbox_unit_test(test_crc32 SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_crc32.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_row_format SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_row_format.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_sink SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sink.c
                 LIBS outbox_relay_core outbox_config)
outbox_unit_test(test_mariadb_zip SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_mariadb_zip.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_dedupe SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dedupe.c
  LIBS outbox_relay_core)
outbox_unit_test(test_koffsets SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_koffsets.c
  LIBS outbox_relay_core)
outbox_unit_test(test_binlog_rows SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_binlog_rows.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_pipeline SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_pipeline.c
                 LIBS outbox_relay_core outbox_config)
outbox_unit_test(test_tmap SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_tmap.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_dlq SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dlq.c
                 LIBS outbox_relay_core)
outbox_unit_test(test_pipeline_fake SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_pipeline_fake.c
                 LIBS outbox_relay_core outbox_config)
outbox_unit_test(test_bwalk SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_bwalk.c
                 LIBS outbox_relay_core)
