# SPDX-License-Identifier: Apache-2.0
outbox_unit_test(test_feed_json SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_feed_json.c
                 LIBS outbox_sse_core)
