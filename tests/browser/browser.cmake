# SPDX-License-Identifier: Apache-2.0
# The demo page in headless chromium, from joining to confirmation.
# Needs chromium and node (tests/run.sh installs them) and npm's registry.
if(NOT OUTBOX_SANITIZE)
  add_test(NAME test_browser_demo
    COMMAND ${CMAKE_SOURCE_DIR}/tests/browser/run_demo_test.sh
            ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_browser_demo PROPERTIES LABELS "integration;browser"
    TIMEOUT 300 RUN_SERIAL TRUE)
endif()
