# SPDX-License-Identifier: Apache-2.0
# Programs the integration tests and benchmarks drive.
add_executable(outbox-load ${CMAKE_SOURCE_DIR}/tests/tools/outbox_load.c)
target_link_libraries(outbox-load PRIVATE PkgConfig::MARIADB)
add_executable(outbox-verify ${CMAKE_SOURCE_DIR}/tests/tools/outbox_verify.c)
add_executable(kafka-mock ${CMAKE_SOURCE_DIR}/tests/tools/kafka_mock.c)
target_link_libraries(kafka-mock PRIVATE PkgConfig::RDKAFKA)
