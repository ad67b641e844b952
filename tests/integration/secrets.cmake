# SPDX-License-Identifier: Apache-2.0
outbox_integration_test(test_secrets TIMEOUT 300
  SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/test_secrets.c)
add_dependencies(test_secrets outbox-relay outbox-sse kafka-mock)
