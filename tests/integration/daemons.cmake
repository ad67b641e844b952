# SPDX-License-Identifier: Apache-2.0
outbox_integration_test(test_daemons
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_daemons.c)
add_dependencies(test_daemons outbox-relay outbox-sse)
