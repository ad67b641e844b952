# SPDX-License-Identifier: Apache-2.0
# Every source file carries its SPDX-License-Identifier (LICENSE:
# Apache-2.0); tests/unit/spdx_check.sh --fix adds the missing ones.
add_test(NAME test_spdx
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/unit/spdx_check.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(test_spdx PROPERTIES LABELS unit TIMEOUT 60)
