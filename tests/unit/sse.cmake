# SPDX-License-Identifier: Apache-2.0
outbox_unit_test(test_token SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_token.c
                 LIBS outbox_sse_core)
outbox_unit_test(test_sse_pure SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_sse_pure.c
                 LIBS outbox_sse_core)
