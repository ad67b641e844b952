# SPDX-License-Identifier: Apache-2.0
# Chaos under load (see each test's header). Bounded for the test command;
# longer runs: OUTBOX_CHAOS_KILLS=500 OUTBOX_CHAOS_EVENTS=1000000 build/tests/test_chaos_relay
outbox_integration_test(test_chaos_relay TIMEOUT 1500
  SOURCES ${CMAKE_SOURCE_DIR}/tests/chaos/test_chaos_relay.c
  LIBS outbox_relay_env)
add_dependencies(test_chaos_relay outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_chaos_relay mysql-9.7 mariadb-11.8)

outbox_integration_test(test_chaos_sse TIMEOUT 600
  SOURCES ${CMAKE_SOURCE_DIR}/tests/chaos/test_chaos_sse.c
  LIBS outbox_sse_env outbox_sse_core)
add_dependencies(test_chaos_sse outbox-sse kafka-mock)

# Exactly-once relays sharing topics and the dead-letter topic, killed
# under load (issue: one relay's replay skipped another's events).
outbox_integration_test(test_relay_shared TIMEOUT 1200
  SOURCES ${CMAKE_SOURCE_DIR}/tests/chaos/test_relay_shared.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_shared outbox-relay outbox-load outbox-verify kafka-mock)

# Two relays of one name with ha.enabled: leader election through Kafka,
# SIGKILL and SIGSTOP/SIGCONT of the leader under load.
outbox_integration_test(test_relay_ha TIMEOUT 900
  SOURCES ${CMAKE_SOURCE_DIR}/tests/chaos/test_relay_ha.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_ha outbox-relay outbox-load outbox-verify kafka-mock)

# A primary and a GTID replica: the primary SIGKILLed mid-load, the
# replica promoted, the relay (source.hosts) and the writer follow it; a
# foreign server is refused with exit status 1.
outbox_integration_test(test_relay_failover TIMEOUT 1200
  SOURCES ${CMAKE_SOURCE_DIR}/tests/chaos/test_relay_failover.c
  LIBS outbox_relay_env)
add_dependencies(test_relay_failover outbox-relay outbox-load outbox-verify kafka-mock)
outbox_server_variants(test_relay_failover mysql-9.7)
