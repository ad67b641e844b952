# SPDX-License-Identifier: Apache-2.0
# The checked-in key references (docs/CONFIG.md, the man pages) say what
# the cfg_field tables say (config/CMakeLists.txt lists the documents).
add_test(NAME test_config_docs
         COMMAND outbox-cfg-docs --check ${OUTBOX_CONFIG_DOCS})
set_tests_properties(test_config_docs PROPERTIES LABELS unit TIMEOUT 60)
outbox_unit_test(test_cfg_doc SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_cfg_doc.c
                 LIBS outbox_config)
