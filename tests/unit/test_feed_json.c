/* SPDX-License-Identifier: Apache-2.0 */
/* The zero-copy JSON field reader of the SSE feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sse/feed.h"

static int field(const char *json, const char *name, char *out)
{
    const char *v;
    size_t n;
    if (feed_json_field(json, strlen(json), name, &v, &n) < 0)
        return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

static void test_found(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(field("{\"queue\":\"q1\"}", "queue", out), 0);
    assert_string_equal(out, "q1");
    assert_int_equal(field(" { \"a\" : [1, {\"queue\":\"no\"}, \"x]\"], "
                           "\"b\": {\"c\": \"}\"}, \"queue\" : \"sale-7\" }",
                           "queue", out), 0);
    assert_string_equal(out, "sale-7");
    assert_int_equal(field("{\"q\\\"ueue\":\"x\",\"queue\":\"y\"}", "queue", out), 0);
    assert_string_equal(out, "y");
    assert_int_equal(field("{\"n\":-1.5e3,\"t\":true,\"z\":null,\"queue\":\"ok\"}",
                           "queue", out), 0);
    assert_string_equal(out, "ok");
}

static void test_not_found_or_bad(void **state)
{
    (void)state;
    char out[64];
    static const char *const bad[] = {
        "", "[]", "{", "{\"queue\":1}", "{\"queue\":\"\"}",
        "{\"queue\":\"a\\\"b\"}", "{\"other\":\"x\"}", "{\"a\":[1,2}",
        "{\"a\":\"unterminated", "{\"queue\" \"x\"}", "nope",
        "{\"a\":{\"queue\":\"nested\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (field(bad[i], "queue", out) == 0)
            fail_msg("accepted %s -> %s", bad[i], out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found),
        cmocka_unit_test(test_not_found_or_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
