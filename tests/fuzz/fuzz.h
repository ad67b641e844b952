/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libFuzzer entry point every target defines. With -DOUTBOX_FUZZ=ON
 * (clang) each target links libFuzzer's main; in every build
 * corpus_main.c runs it over the seed corpus as a unit test.
 *
 * A target abort()s when an invariant of the code under test fails, so the
 * seed run fails as a test does and libFuzzer reports it as a crash.
 */
#ifndef OUTBOX_TESTS_FUZZ_H
#define OUTBOX_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* assert() that survives NDEBUG (RelWithDebInfo defines it). */
#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* A copy of data in a buffer of exactly `size` bytes (plus the NUL when
 * `nul`), so that AddressSanitizer sees a read past the input. */
static inline char *fuzz_copy(const uint8_t *data, size_t size, int nul)
{
    size_t n = size + (nul ? 1 : 0);
    char *s = malloc(n);
    FUZZ_CHECK(s != NULL || n == 0);
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    if (nul)
        s[size] = '\0';
    return s;
}

#endif
