# SPDX-License-Identifier: Apache-2.0
# The packaging stage (label packaging), in the plain build only: the
# sanitizer and fuzzer builds produce binaries nobody packages.
#
#   test_deb12, test_deb13   build the .deb for Debian 12 (on this machine,
#                            with the .rpm) and Debian 13 (in a trixie root)
#                            with dpkg-buildflags, and check them
#                            (tests/packaging/test_deb.sh)
#   test_systemd_bookworm,   boot a clean Debian 12 / 13 root under
#   test_systemd_trixie      systemd-nspawn, install that .deb and run both
#                            services through installs, events, the
#                            watchdog, restarts, a clean stop, the sandbox,
#                            an upgrade and a purge (test_systemd.sh)
#
# Each systemd test needs its .deb: a CTest fixture, so that
# `ctest -R test_systemd_trixie` builds it first. They need root
# (debootstrap, systemd-nspawn: CI runs as root on a throwaway machine);
# a root that cannot be built here makes them SKIPPED (77), never passed.
if(NOT OUTBOX_SANITIZE AND NOT OUTBOX_FUZZ)
  add_executable(pkg-servers ${CMAKE_CURRENT_LIST_DIR}/pkg_servers.c)
  target_link_libraries(pkg-servers PRIVATE outbox_test_harness outbox_common)
  add_dependencies(pkg-servers kafka-mock th-root)
  set(pkg_env "OUTBOX_BUILD_DIR=${CMAKE_BINARY_DIR};OUTBOX_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  foreach(dist bookworm:12 trixie:13)
    string(REPLACE ":" ";" dist ${dist})
    list(GET dist 0 suite)
    list(GET dist 1 number)
    add_test(NAME test_deb${number}
      COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_deb.sh
              ${suite} ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${PROJECT_VERSION})
    set_tests_properties(test_deb${number} PROPERTIES LABELS packaging
      TIMEOUT 900 SKIP_RETURN_CODE 77 FIXTURES_SETUP deb${number}
      ENVIRONMENT "${pkg_env}")
    add_test(NAME test_systemd_${suite}
      COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_systemd.sh
              ${suite} ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${PROJECT_VERSION})
    # Serial like the integration tests: the watchdog and restart checks
    # time systemd's reactions.
    set_tests_properties(test_systemd_${suite} PROPERTIES LABELS packaging
      TIMEOUT 600 RUN_SERIAL TRUE SKIP_RETURN_CODE 77
      FIXTURES_REQUIRED deb${number} ENVIRONMENT "${pkg_env}")
  endforeach()
endif()
