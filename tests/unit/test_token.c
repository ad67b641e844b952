/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Subscribe and admission tokens (sse/token.h).
 *
 * The MAC is checked against an HMAC-SHA256 computed here with OpenSSL's
 * HMAC() and a base64url encoder of the test's own, so the test holds the
 * code to the algorithm the header documents, not to itself; one vector
 * was computed once with the openssl command line (test_known_answer).
 * Malformed tokens are built with a valid MAC wherever the format allows,
 * so that only the malformation can be what rejects them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse/token.h"

#define SECRET "correct horse battery staple"
#define NOW INT64_C(1700000000)
#define LATER (NOW + 3600)

static const char *const PURPOSE[] = {"subscribe", "admission"};

/* ---- the test's own base64url and MAC ---------------------------------- */

static void b64url(const void *in, size_t n, char *out)
{
    static const char A[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = in;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[k++] = A[v >> 18 & 63];
        out[k++] = A[v >> 12 & 63];
        if (i + 1 < n)
            out[k++] = A[v >> 6 & 63];
        if (i + 2 < n)
            out[k++] = A[v & 63];
    }
    out[k] = '\0';
}

/* b64url(HMAC-SHA256(secret, purpose LF queue LF user LF expiry)), with
 * the names given as bytes and the expiry as the text that goes into the
 * token (so that a malformed expiry still gets a MAC over its value). */
static void ref_mac(const char *secret, enum token_purpose p, const void *queue,
                    size_t qlen, const void *user, size_t ulen,
                    const char *expiry, char *out)
{
    unsigned char msg[2048], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t n = 0, plen = strlen(PURPOSE[p]), elen = strlen(expiry);
    assert_true(plen + qlen + ulen + elen + 3 <= sizeof msg);
    memcpy(msg + n, PURPOSE[p], plen), n += plen, msg[n++] = '\n';
    memcpy(msg + n, queue, qlen), n += qlen, msg[n++] = '\n';
    memcpy(msg + n, user, ulen), n += ulen, msg[n++] = '\n';
    memcpy(msg + n, expiry, elen), n += elen;
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, n, md,
                         &mdlen));
    assert_int_equal(mdlen, 32);
    b64url(md, mdlen, out);
}

/* A token assembled by hand: names as bytes, the expiry as text, and a MAC
 * over exactly those (so it is genuine unless the format rejects it). */
static char *forge(char *buf, size_t buflen, enum token_purpose p,
                   const void *queue, size_t qlen, const void *user,
                   size_t ulen, const char *expiry)
{
    char q[1024], u[1024], m[64];
    assert_true(qlen < 700 && ulen < 700);
    b64url(queue, qlen, q);
    b64url(user, ulen, u);
    ref_mac(SECRET, p, queue, qlen, user, ulen, expiry, m);
    int n = snprintf(buf, buflen, "%s.%s.%s.%s", q, u, expiry, m);
    assert_true(n > 0 && (size_t)n < buflen);
    return buf;
}

static int mint(enum token_purpose p, const char *queue, const char *user,
                int64_t expiry, char *buf)
{
    return token_mint(SECRET, strlen(SECRET), p, queue, user, expiry, buf,
                      TOKEN_MAX);
}

static enum token_verdict verify(enum token_purpose p, const char *token,
                                 const char *queue, const char *user)
{
    return token_verify(SECRET, strlen(SECRET), p, token, queue, user, NOW);
}

/* ---- genuine tokens ---------------------------------------------------- */

static void test_mint_verify(void **state)
{
    (void)state;
    char tok[TOKEN_MAX];
    static const char *const names[][2] = {
        {"sale-7", "u42"}, {"q", "u"}, {"ab", "abc"}, {"abcd", "abcde"},
        {"with.dots and spaces", "user@example.com"},
        {"caf\xc3\xa9", "\xe2\x82\xac\xf0\x9f\x98\x80"}, /* UTF-8 */
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
            int n = mint((enum token_purpose)p, names[i][0], names[i][1], LATER, tok);
            assert_true(n > 0 && n < TOKEN_MAX);
            assert_int_equal((size_t)n, strlen(tok));
            assert_int_equal(verify((enum token_purpose)p, tok, names[i][0],
                                    names[i][1]), TOKEN_OK);
        }
}

static void test_mac_is_documented_algorithm(void **state)
{
    (void)state;
    static const char *const names[][2] = {
        {"sale-7", "u42"}, {"q", "u"}, {"ab", "abc"}, {"abcd", "abcde"},
        {"caf\xc3\xa9", "a user"},
    };
    static const int64_t expiries[] = {0, 1, 9, 10, NOW, INT64_C(99999999999)};
    char tok[TOKEN_MAX], want[2048], exp[32], m[64], q[512], u[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t e = 0; e < sizeof expiries / sizeof expiries[0]; e++)
            for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
                const char *qn = names[i][0], *un = names[i][1];
                snprintf(exp, sizeof exp, "%" PRId64, expiries[e]);
                ref_mac(SECRET, (enum token_purpose)p, qn, strlen(qn), un,
                        strlen(un), exp, m);
                b64url(qn, strlen(qn), q);
                b64url(un, strlen(un), u);
                snprintf(want, sizeof want, "%s.%s.%s.%s", q, u, exp, m);
                assert_true(mint((enum token_purpose)p, qn, un, expiries[e], tok) > 0);
                assert_string_equal(strrchr(tok, '.') + 1, m);
                assert_string_equal(tok, want);
            }
}

/* Produced once on the command line (OpenSSL 3), not by this code:
 *   printf 'subscribe\nsale-7\nu42\n1700000000' |
 *     openssl dgst -sha256 -hmac 'outbox-kat-secret' -binary |
 *     base64 | tr '+/' '-_' | tr -d '='
 * (hex 0a4589baf28925394862b257469bbc42f2bfa694bbb8179d46eb1e2584e47869);
 * "admission" in place of "subscribe" for the second; the names with
 * printf 'sale-7' | base64 (c2FsZS03) and printf 'u42' | base64 (dTQy). */
static void test_known_answer(void **state)
{
    (void)state;
    static const char K[] = "outbox-kat-secret";
    static const char SUB[] =
        "c2FsZS03.dTQy.1700000000.CkWJuvKJJTlIYrJXRpu8QvK_ppS7uBedRuseJYTkeGk";
    static const char ADM[] =
        "c2FsZS03.dTQy.1700000000.UQcJCu6Frvu-_mJtjpSkvtNcUXJfAOxAmtJNA9xDCDA";
    char tok[TOKEN_MAX];
    assert_int_equal(token_mint(K, strlen(K), TOKEN_SUBSCRIBE, "sale-7", "u42",
                                1700000000, tok, sizeof tok), strlen(SUB));
    assert_string_equal(tok, SUB);
    assert_int_equal(token_mint(K, strlen(K), TOKEN_ADMISSION, "sale-7", "u42",
                                1700000000, tok, sizeof tok), strlen(ADM));
    assert_string_equal(tok, ADM);
    assert_int_equal(token_verify(K, strlen(K), TOKEN_SUBSCRIBE, SUB, "sale-7",
                                  "u42", 1699999999), TOKEN_OK);
    assert_int_equal(token_verify(K, strlen(K), TOKEN_ADMISSION, ADM, "sale-7",
                                  "u42", 1699999999), TOKEN_OK);
}

/* ---- verdicts ---------------------------------------------------------- */

static void test_wrong_secret(void **state)
{
    (void)state;
    char tok[TOKEN_MAX];
    assert_true(mint(TOKEN_SUBSCRIBE, "sale-7", "u42", LATER, tok) > 0);
    static const char *const others[] = {
        "correct horse battery stapl", "correct horse battery staple!",
        "Correct horse battery staple", "x",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_int_equal(token_verify(others[i], strlen(others[i]),
                                      TOKEN_SUBSCRIBE, tok, "sale-7", "u42", NOW),
                         TOKEN_BAD_MAC);
    /* A forged MAC (the reference MAC with another secret) is refused too. */
    char q[16], u[16], m[64], forged[TOKEN_MAX];
    b64url("sale-7", 6, q);
    b64url("u42", 3, u);
    ref_mac("guess", TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, "1700003600", m);
    snprintf(forged, sizeof forged, "%s.%s.1700003600.%s", q, u, m);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, forged, "sale-7", "u42"),
                     TOKEN_BAD_MAC);
}

static void test_expired(void **state)
{
    (void)state;
    char tok[TOKEN_MAX];
    assert_true(mint(TOKEN_SUBSCRIBE, "sale-7", "u42", NOW, tok) > 0);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, tok, "sale-7", "u42"), TOKEN_EXPIRED);
    assert_true(mint(TOKEN_SUBSCRIBE, "sale-7", "u42", NOW - 1, tok) > 0);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, tok, "sale-7", "u42"), TOKEN_EXPIRED);
    assert_true(mint(TOKEN_ADMISSION, "sale-7", "u42", 0, tok) > 0);
    assert_int_equal(verify(TOKEN_ADMISSION, tok, "sale-7", "u42"), TOKEN_EXPIRED);
    assert_true(mint(TOKEN_SUBSCRIBE, "sale-7", "u42", NOW + 1, tok) > 0);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, tok, "sale-7", "u42"), TOKEN_OK);
}

static void test_other_subject(void **state)
{
    (void)state;
    char tok[TOKEN_MAX];
    for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
        enum token_purpose pp = (enum token_purpose)p;
        assert_true(mint(pp, "sale-7", "u42", LATER, tok) > 0);
        assert_int_equal(verify(pp, tok, "sale-8", "u42"), TOKEN_OTHER_SUBJECT);
        assert_int_equal(verify(pp, tok, "sale-7", "u43"), TOKEN_OTHER_SUBJECT);
        assert_int_equal(verify(pp, tok, "sale-7", "u4"), TOKEN_OTHER_SUBJECT);
        assert_int_equal(verify(pp, tok, "sale-7x", "u42"), TOKEN_OTHER_SUBJECT);
        assert_int_equal(verify(pp, tok, "u42", "sale-7"), TOKEN_OTHER_SUBJECT);
        assert_int_equal(verify(pp, tok, "", ""), TOKEN_OTHER_SUBJECT);
    }
}

static void test_purposes_are_not_interchangeable(void **state)
{
    (void)state;
    char tok[TOKEN_MAX];
    assert_true(mint(TOKEN_SUBSCRIBE, "sale-7", "u42", LATER, tok) > 0);
    assert_int_equal(verify(TOKEN_ADMISSION, tok, "sale-7", "u42"), TOKEN_BAD_MAC);
    assert_true(mint(TOKEN_ADMISSION, "sale-7", "u42", LATER, tok) > 0);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, tok, "sale-7", "u42"), TOKEN_BAD_MAC);
}

/* ---- malformed tokens -------------------------------------------------- */

static void expect_malformed(const char *tok, const char *what)
{
    for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
        enum token_verdict v = verify((enum token_purpose)p, tok, "sale-7", "u42");
        /* tok may be NULL (the NULL case below): printing a NULL %s is
         * undefined behaviour, so name it instead. */
        if (v != TOKEN_MALFORMED)
            fail_msg("%s: got \"%s\" for %.120s", what, token_verdict_str(v),
                     tok ? tok : "(NULL)");
    }
}

/* Replaces the first occurrence of `from` in tok by `to`. */
static char *edit(char *tok, const char *from, const char *to)
{
    char *at = strstr(tok, from);
    assert_non_null(at);
    size_t fl = strlen(from), tl = strlen(to);
    memmove(at + tl, at + fl, strlen(at + fl) + 1);
    memcpy(at, to, tl);
    return tok;
}

static void test_malformed_shape(void **state)
{
    (void)state;
    char good[TOKEN_MAX], t[TOKEN_MAX + 64];
    forge(good, sizeof good, TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, good, "sale-7", "u42"), TOKEN_OK);
    const char *mac = strrchr(good, '.') + 1;

    /* prefix, then the genuine token or its MAC or nothing, then suffix */
    enum { NONE, TOKEN, MAC };
    static const struct { const char *pre; int arg; const char *post, *what; } cases[] = {
        {"", NONE, "", "empty"},
        {".", NONE, "", "one dot"},
        {"...", NONE, "", "three dots only"},
        {"....", NONE, "", "four dots only"},
        {"c2FsZS03.dTQy.", MAC, "", "too few dots"},
        {"c2FsZS03.dTQy.1700003600", MAC, "", "MAC glued to the expiry"},
        {"", TOKEN, ".", "trailing dot"},
        {"", TOKEN, ".x", "five fields"},
        {".", TOKEN, "", "leading dot"},
        {"c2FsZS03..1700003600.", MAC, "", "empty user"},
        {".dTQy.1700003600.", MAC, "", "empty queue"},
        {"c2FsZS03.dTQy..", MAC, "", "empty expiry"},
        {"c2FsZS03.dTQy.1700003600.", NONE, "", "empty MAC"},
        {"", TOKEN, "=", "'=' after the MAC"},
        {"", TOKEN, " ", "trailing space"},
        {"", TOKEN, "\n", "trailing newline"},
        {" ", TOKEN, "", "leading space"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *arg = cases[i].arg == TOKEN ? good : cases[i].arg == MAC ? mac : "";
        snprintf(t, sizeof t, "%s%s%s", cases[i].pre, arg, cases[i].post);
        expect_malformed(t, cases[i].what);
    }
    expect_malformed(edit(strcpy(t, good), "c2Fs", "c2F*"), "'*' in a name");
    expect_malformed(edit(strcpy(t, good), "dTQy", "dT y"), "space in a name");
    expect_malformed(edit(strcpy(t, good), "dTQy", "dTQ\xc3\xa9"), "UTF-8 in base64");
    expect_malformed(NULL, "NULL");
}

static void test_malformed_base64(void **state)
{
    (void)state;
    char t[TOKEN_MAX + 64];
    /* "u4" is "dTQ" in base64url: with its padding it must be refused. */
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u4", 2, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, t, "sale-7", "u4"), TOKEN_OK);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, edit(t, ".dTQ.", ".dTQ=."), "sale-7",
                            "u4"), TOKEN_MALFORMED);
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u", 1, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, edit(t, ".dQ.", ".dQ==."), "sale-7",
                            "u"), TOKEN_MALFORMED);
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u", 1, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, edit(t, ".dQ.", ".d."), "sale-7",
                            "u"), TOKEN_MALFORMED); /* one char: 6 bits */
    /* The MAC has 43 characters; 44 with its '='. */
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, "1700003600");
    strcat(t, "=");
    expect_malformed(t, "padded MAC");

    /* The standard alphabet's '+' and '/' stand for '-' and '_'; a decoder
     * that took them would accept this genuine MAC in another spelling. */
    int found_dash = 0, found_us = 0;
    for (int e = 1700003600; e < 1700003600 + 400 && !(found_dash && found_us); e++) {
        char exp[16], std[TOKEN_MAX + 64];
        snprintf(exp, sizeof exp, "%d", e);
        forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, exp);
        char *mac = strrchr(t, '.') + 1;
        for (int k = 0; k < 2; k++) {
            const char from = k ? '_' : '-', to = k ? '/' : '+';
            char *at = strchr(mac, from);
            if (!at || (k ? found_us : found_dash))
                continue;
            strcpy(std, t);
            std[at - t] = to;
            expect_malformed(std, k ? "'/' in the MAC" : "'+' in the MAC");
            *(k ? &found_us : &found_dash) = 1;
        }
    }
    assert_true(found_dash && found_us);
    /* The same in a name: "~~~" is "fn5-" in base64url, "fn5+" in base64;
     * "???" is "Pz8_" and "Pz8/". */
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "~~~", 3, "???", 3, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, t, "~~~", "???"), TOKEN_OK);
    char std[TOKEN_MAX + 64];
    assert_int_equal(verify(TOKEN_SUBSCRIBE, edit(strcpy(std, t), "fn5-", "fn5+"),
                            "~~~", "???"), TOKEN_MALFORMED);
    assert_int_equal(verify(TOKEN_SUBSCRIBE, edit(strcpy(std, t), "Pz8_", "Pz8/"),
                            "~~~", "???"), TOKEN_MALFORMED);
}

static void test_malformed_expiry(void **state)
{
    (void)state;
    char t[TOKEN_MAX + 64];
    /* Each carries a MAC over its own expiry text, so only the syntax can
     * make it malformed; the same value in canonical form is accepted. */
    static const char *const bad[] = {
        "01700003600", "001700003600", "+1700003600", "-1700003600", "-0",
        "00", " 1700003600", "1700003600 ", "17000036OO", "0x6553f100",
        "1.7e9", "1700003600.0", "9999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, bad[i]);
        expect_malformed(t, bad[i]);
    }
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, t, "sale-7", "u42"), TOKEN_OK);
}

static void test_malformed_names(void **state)
{
    (void)state;
    char t[TOKEN_MAX + 700], name[TOKEN_NAME_MAX + 2];
    /* 200 bytes is the longest name; 201 is malformed. */
    memset(name, 'n', sizeof name);
    forge(t, sizeof t, TOKEN_SUBSCRIBE, name, TOKEN_NAME_MAX, "u42", 3, "1700003600");
    name[TOKEN_NAME_MAX] = '\0';
    assert_int_equal(verify(TOKEN_SUBSCRIBE, t, name, "u42"), TOKEN_OK);
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, name, TOKEN_NAME_MAX, "1700003600");
    assert_int_equal(verify(TOKEN_SUBSCRIBE, t, "sale-7", name), TOKEN_OK);
    memset(name, 'n', sizeof name);
    forge(t, sizeof t, TOKEN_SUBSCRIBE, name, TOKEN_NAME_MAX + 1, "u42", 3, "1700003600");
    expect_malformed(t, "201-byte queue");
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, name, TOKEN_NAME_MAX + 1, "1700003600");
    expect_malformed(t, "201-byte user");
    char big[600];
    memset(big, 'n', sizeof big);
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, big, 300, "1700003600");
    expect_malformed(t, "300-byte user");

    static const struct { const char *s; size_t n; } ctl[] = {
        {"a\nb", 3}, {"a\rb", 3}, {"\t", 1}, {"ab\x1f", 3}, {"a\x7f", 2},
        {"a\0b", 3}, {"\0", 1}, {"\x1b[31m", 5},
    };
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
        forge(t, sizeof t, TOKEN_SUBSCRIBE, ctl[i].s, ctl[i].n, "u42", 3, "1700003600");
        expect_malformed(t, "control character in the queue");
        forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7", 6, ctl[i].s, ctl[i].n, "1700003600");
        expect_malformed(t, "control character in the user");
    }
    /* "sale-7\nu42" as the queue and "x" as the user would sign the same
     * message as a token for queue "sale-7", user "u42\nx". */
    forge(t, sizeof t, TOKEN_SUBSCRIBE, "sale-7\nu42", 10, "x", 1, "1700003600");
    expect_malformed(t, "LF in a name");
}

static void test_malformed_mac_length(void **state)
{
    (void)state;
    char good[TOKEN_MAX], t[TOKEN_MAX + 64], m[128];
    forge(good, sizeof good, TOKEN_SUBSCRIBE, "sale-7", 6, "u42", 3, "1700003600");
    char *dot = strrchr(good, '.');
    unsigned char raw[48];
    memset(raw, 0xa5, sizeof raw);
    static const size_t lens[] = {0, 1, 16, 31, 33, 48};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        b64url(raw, lens[i], m);
        snprintf(t, sizeof t, "%.*s.%s", (int)(dot - good), good, m);
        expect_malformed(t, "MAC of the wrong length");
    }
    snprintf(t, sizeof t, "%.*s", (int)strlen(good) - 1, good);
    expect_malformed(t, "MAC one character short");
    snprintf(t, sizeof t, "%sA", good);
    expect_malformed(t, "MAC one character long");
}

static void test_malformed_huge(void **state)
{
    (void)state;
    char *big = malloc(10241);
    assert_non_null(big);
    memset(big, 'A', 10240);
    big[10240] = '\0';
    expect_malformed(big, "10 KB of 'A'");
    for (int i = 1000; i < 10240; i += 1000)
        big[i] = '.';
    expect_malformed(big, "10 KB with dots");
    /* A genuine token padded past TOKEN_MAX in its user name. */
    char *t = malloc(12000), name[4000];
    assert_non_null(t);
    memset(name, 'n', sizeof name);
    forge(t, 12000, TOKEN_SUBSCRIBE, "sale-7", 6, name, 600, "1700003600");
    expect_malformed(t, "600-byte user");
    free(t);
    free(big);
}

/* ---- no single-character change of a genuine token is accepted ---------- */

static void test_single_flips(void **state)
{
    (void)state;
    static const char *const names[][2] = {
        {"sale-7", "u42"}, {"q", "u"}, {"ab", "abcde"}, {"~~~", "???"},
    };
    char tok[TOKEN_MAX], t[TOKEN_MAX];
    size_t tried = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        for (int p = TOKEN_SUBSCRIBE; p <= TOKEN_ADMISSION; p++) {
            enum token_purpose pp = (enum token_purpose)p;
            assert_true(mint(pp, names[k][0], names[k][1], LATER, tok) > 0);
            assert_int_equal(verify(pp, tok, names[k][0], names[k][1]), TOKEN_OK);
            size_t n = strlen(tok);
            for (size_t i = 0; i < n; i++)
                for (int c = 0; c < 256; c++) {
                    if (c == (unsigned char)tok[i])
                        continue;
                    memcpy(t, tok, n + 1);
                    t[i] = (char)c; /* 0 truncates the token */
                    enum token_verdict v = verify(pp, t, names[k][0], names[k][1]);
                    if (v == TOKEN_OK)
                        fail_msg("byte %zu of %s changed to 0x%02x is accepted",
                                 i, tok, c);
                    tried++;
                }
        }
    assert_true(tried > 100000);
}

/* ---- minting ------------------------------------------------------------ */

static void test_mint_limits(void **state)
{
    (void)state;
    char tok[TOKEN_MAX], name[TOKEN_NAME_MAX + 2];
    assert_int_equal(token_name_ok("a", 1), 1);
    assert_int_equal(token_name_ok("", 0), 0);
    assert_int_equal(token_name_ok("a\n", 2), 0);
    assert_int_equal(token_name_ok("a\x7f", 2), 0);
    assert_int_equal(token_name_ok("\xc3\xa9", 2), 1);
    memset(name, 'x', sizeof name);
    assert_int_equal(token_name_ok(name, TOKEN_NAME_MAX), 1);
    assert_int_equal(token_name_ok(name, TOKEN_NAME_MAX + 1), 0);

    assert_int_equal(mint(TOKEN_SUBSCRIBE, "", "u", LATER, tok), -1);
    assert_int_equal(mint(TOKEN_SUBSCRIBE, "q", "", LATER, tok), -1);
    assert_int_equal(mint(TOKEN_SUBSCRIBE, "q\n", "u", LATER, tok), -1);
    assert_int_equal(mint(TOKEN_SUBSCRIBE, "q", "u", -1, tok), -1);
    name[TOKEN_NAME_MAX + 1] = '\0';
    assert_int_equal(mint(TOKEN_SUBSCRIBE, name, "u", LATER, tok), -1);

    /* The longest token fits TOKEN_MAX and verifies. */
    name[TOKEN_NAME_MAX] = '\0';
    int n = mint(TOKEN_ADMISSION, name, name, INT64_C(99999999999), tok);
    assert_true(n > 0 && n < TOKEN_MAX);
    assert_int_equal(token_verify(SECRET, strlen(SECRET), TOKEN_ADMISSION, tok,
                                  name, name, NOW), TOKEN_OK);

    /* A buffer one byte short of the token and its NUL. */
    n = mint(TOKEN_SUBSCRIBE, "sale-7", "u42", LATER, tok);
    assert_true(n > 0);
    char small[TOKEN_MAX];
    assert_int_equal(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "sale-7",
                                "u42", LATER, small, (size_t)n), -1);
    assert_int_equal(token_mint(SECRET, strlen(SECRET), TOKEN_SUBSCRIBE, "sale-7",
                                "u42", LATER, small, (size_t)n + 1), n);
    assert_string_equal(small, tok);
}

static void test_verdict_strings(void **state)
{
    (void)state;
    for (int v = TOKEN_OK; v <= TOKEN_OTHER_SUBJECT; v++) {
        const char *s = token_verdict_str((enum token_verdict)v);
        assert_non_null(s);
        assert_string_not_equal(s, "?");
        for (int w = TOKEN_OK; w < v; w++)
            assert_string_not_equal(s, token_verdict_str((enum token_verdict)w));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mint_verify),
        cmocka_unit_test(test_mac_is_documented_algorithm),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_other_subject),
        cmocka_unit_test(test_purposes_are_not_interchangeable),
        cmocka_unit_test(test_malformed_shape),
        cmocka_unit_test(test_malformed_base64),
        cmocka_unit_test(test_malformed_expiry),
        cmocka_unit_test(test_malformed_names),
        cmocka_unit_test(test_malformed_mac_length),
        cmocka_unit_test(test_malformed_huge),
        cmocka_unit_test(test_single_flips),
        cmocka_unit_test(test_mint_limits),
        cmocka_unit_test(test_verdict_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
