/* SPDX-License-Identifier: Apache-2.0 */
/* Backoff: bounds, growth and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/backoff.h"

static void test_bounds_and_growth(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 100, 5000);
    int64_t max_seen = 0;
    for (int i = 0; i < 200; i++) {
        int64_t w = backoff_next(&b);
        assert_true(w >= 50 && w <= 5000);
        if (i == 0)
            assert_true(w <= 100); /* the first wait is at most initial */
        if (w > max_seen)
            max_seen = w;
    }
    assert_true(max_seen > 2500); /* the ceiling grew to max */
    backoff_reset(&b);
    assert_true(backoff_next(&b) <= 100);
}

static void test_jitter_varies(void **state)
{
    (void)state;
    struct backoff b;
    backoff_init(&b, 1000, 1000);
    int64_t first = backoff_next(&b);
    int differ = 0;
    for (int i = 0; i < 50; i++)
        differ |= backoff_next(&b) != first;
    assert_true(differ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_and_growth),
        cmocka_unit_test(test_jitter_varies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
