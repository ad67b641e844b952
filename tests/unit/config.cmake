# SPDX-License-Identifier: Apache-2.0
outbox_unit_test(test_cfg SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_cfg.c
                 LIBS outbox_config)
# config/ knows no daemon: it includes common/ and itself only, so that
# the library both daemons link does not link either daemon's core.
add_test(NAME test_config_layering
  COMMAND sh -c "! grep -n '#include \"\\(relay\\|sse\\|demo\\|tests\\)/' ${CMAKE_SOURCE_DIR}/config/*.c ${CMAKE_SOURCE_DIR}/config/*.h")
set_tests_properties(test_config_layering PROPERTIES LABELS unit TIMEOUT 30)
