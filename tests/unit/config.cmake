outbox_unit_test(test_cfg SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_cfg.c
                 LIBS outbox_config)
