# test_packaging: builds the .deb and .rpm with CPack, checks them
# (lintian, rpm -qpl, man pages, systemd-analyze), installs the .deb on
# this machine, runs the installed daemons against the installed configs
# and purges the package again. It needs root (dpkg -i): CI runs as root on
# a throwaway machine. Only in the plain build: the sanitizer and fuzzer
# builds produce binaries nobody packages.
if(NOT OUTBOX_SANITIZE AND NOT OUTBOX_FUZZ)
  add_test(NAME test_packaging
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_packaging.sh
            ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${PROJECT_VERSION})
  set_tests_properties(test_packaging PROPERTIES LABELS packaging
    TIMEOUT 600 RUN_SERIAL TRUE)
endif()
