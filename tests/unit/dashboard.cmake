# The dashboards in packaging/grafana/ query only metrics the daemons register.
outbox_unit_test(test_dashboard SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_dashboard.c)
