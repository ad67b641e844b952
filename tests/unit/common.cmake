# SPDX-License-Identifier: Apache-2.0
outbox_unit_test(test_backoff SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_backoff.c
                 LIBS outbox_common)
outbox_unit_test(test_admin SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_admin.c
                 LIBS outbox_common)
