# SPDX-License-Identifier: Apache-2.0
# The dashboards in packaging/grafana/ query only metrics the daemons register.
outbox_unit_test(test_dashboard SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dashboard.c
  LIBS outbox_common)
# The same, against the daemons' own /metrics (kafka-mock, no database).
outbox_integration_test(test_dashboard_scrape
  SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dashboard.c LIBS outbox_common
  TIMEOUT 120)
target_compile_definitions(test_dashboard_scrape PRIVATE DASHBOARD_SCRAPE=1)
add_dependencies(test_dashboard_scrape outbox-relay outbox-sse kafka-mock)
