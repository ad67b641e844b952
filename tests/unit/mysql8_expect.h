/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ../shared/fixtures/mysql8/MANIFEST.txt states about the JSON
 * columns of fixtures 03 and 04, as the relay renders them: compact JSON
 * (MySQL prints the same documents with a space after ':' and ','), and
 * DECIMAL as a JSON number as MySQL prints it, where the MANIFEST's
 * rust-derived expectation quotes it ("123.456", "9.00"). Shared by the
 * decoder's and the dump's fixture tests.
 */
#ifndef OUTBOX_TESTS_MYSQL8_EXPECT_H
#define OUTBOX_TESTS_MYSQL8_EXPECT_H

/* 03 (mysql.t): json_col of ids 1..3 (4..6 repeat them), name, age. */
static const char *const MYSQL8_03_DOCS[3][3] = {
    {"{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}", "Joe", "24"},
    {"{\"age\":32,\"data\":\"yyyyyyyyyy\",\"name\":\"Sue\"}", "Sue", "32"},
    {"{\"age\":40,\"data\":\"zzzzzzzzzz\",\"name\":\"Pete\"}", "Pete", "40"},
};

/* 04 (foo.test, one JSON column a): the eight rows in order. */
static const char *const MYSQL8_04_VALUES[8] = {
    "{\"a\":\"base64:type15:VQ==\"}", "{\"b\":\"2012-03-18\"}",
    "{\"c\":\"2012-03-18 11:30:45.000000\"}", "{\"c\":\"87:31:46.654321\"}",
    "{\"d\":123.456}", "{\"e\":9.00}", "{\"e\":[0,1,true,false]}",
    "{\"e\":null}",
};

#endif
