#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the hand-made seeds of tests/fuzz/corpus/ (run from anywhere).

The seeds are small valid (and nearly valid) inputs, so that the fuzzers
start from the shapes the decoders accept. Regression inputs found by
fuzzing sit next to them as crash-*, timeout-* or leak-* files and are
not written here. The binlog events are built by hand from the format
(MySQL's libbinlogevents), not copied from any server's binlog.
"""
import base64
import hashlib
import hmac
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fp:
        fp.write(data if isinstance(data, bytes) else data.encode())


# ---- tokens (fuzz_token.c: secret, queue sale-7, user u42) ---------------

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(purpose, queue, user, expiry, secret=b"outbox-fuzz-secret"):
    msg = b"\n".join([purpose, queue, user, str(expiry).encode()])
    mac = hmac.new(secret, msg, hashlib.sha256).digest()
    return ".".join([b64url(queue), b64url(user), str(expiry), b64url(mac)])


put("fuzz_token", "seed-subscribe", token(b"subscribe", b"sale-7", b"u42", 1800000000))
put("fuzz_token", "seed-admission", token(b"admission", b"sale-7", b"u42", 1800000000))
put("fuzz_token", "seed-expired", token(b"subscribe", b"sale-7", b"u42", 1600000000))
put("fuzz_token", "seed-other-user", token(b"subscribe", b"sale-7", b"u43", 1800000000))
put("fuzz_token", "seed-other-secret", token(b"subscribe", b"sale-7", b"u42", 1800000000, b"x"))
put("fuzz_token", "seed-names", "sale-7|u42")
put("fuzz_token", "seed-names-utf8", "caf\u00e9|\u20ac\U0001F600")
put("fuzz_token", "seed-names-long", "q" * 200 + "|" + "u" * 200)
put("fuzz_token", "seed-malformed", "c2FsZS03.dTQy.01800000000.x")

# ---- percent-decoding (fuzz_pct.c: form flag, outlen, input) -------------

put("fuzz_pct", "seed-form", b"\x01\x40" + b"sale%2D7+a%C3%A9")
put("fuzz_pct", "seed-path", b"\x00\x40" + b"a+b%20c%7e")
put("fuzz_pct", "seed-short-out", b"\x00\x03" + b"%41%42%43")
put("fuzz_pct", "seed-zero-out", b"\x00\x00")
put("fuzz_pct", "seed-bad", b"\x01\xff" + b"%4%zz%00")

# ---- feed JSON (fuzz_feed_json.c: field selector, JSON) -----------------

put("fuzz_feed_json", "seed-queue", b"\x00" + b'{"id":1,"queue":"sale-7"}')
put("fuzz_feed_json", "seed-nested", b"\x00" +
    b' { "a" : [1, {"queue":"no"}, "x]"], "b": {"c": "}"}, "queue" : "q" }')
put("fuzz_feed_json", "seed-escaped", b"\x01" + b'{"q\\"":"x","q":"a\\"b"}')
put("fuzz_feed_json", "seed-type", b"\x03" +
    b'{"n":-1.5e3,"t":true,"z":null,"type":"QueueChanged"}')

# ---- binlog (fuzz_binlog.c: 5 setting bytes, TABLE_MAP, ROWS) ------------

T = dict(DECIMAL=0, TINY=1, SHORT=2, LONG=3, FLOAT=4, DOUBLE=5, TIMESTAMP=7,
         LONGLONG=8, INT24=9, DATE=10, TIME=11, DATETIME=12, YEAR=13,
         VARCHAR=15, BIT=16, TIMESTAMP2=17, DATETIME2=18, TIME2=19,
         VECTOR=242, JSON=245,
         NEWDECIMAL=246, ENUM=247, SET=248, BLOB=252, VAR_STRING=253,
         STRING=254, GEOMETRY=255)


def packed(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


def bitmap(bits):
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        if b:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def table_map(cols, names=True, table_id=42, db=b"shop", table=b"outbox", idw=6):
    """cols: (type, meta bytes, nullable, name, unsigned)"""
    b = struct.pack("<Q", table_id)[:idw] + b"\x01\x00"
    b += bytes([len(db)]) + db + b"\0" + bytes([len(table)]) + table + b"\0"
    b += packed(len(cols)) + bytes(c[0] for c in cols)
    meta = b"".join(c[1] for c in cols)
    b += packed(len(meta)) + meta + bitmap([c[2] for c in cols])
    numeric = [c for c in cols if c[0] in (1, 2, 3, 4, 5, 8, 9, 246, 0)]
    if numeric:
        sign = bytearray((len(numeric) + 7) // 8)
        for i, c in enumerate(numeric):
            if c[4]:
                sign[i // 8] |= 0x80 >> (i % 8)
        b += b"\x01" + packed(len(sign)) + bytes(sign)
    if names:
        v = b"".join(packed(len(c[3])) + c[3] for c in cols)
        b += b"\x04" + packed(len(v)) + v
    return b


def rows_event(ncols, images, v2=True, update=False, table_id=42, idw=6):
    """images: list of (nulls list, values bytes); all columns present."""
    b = struct.pack("<Q", table_id)[:idw] + b"\x01\x00"
    if v2:
        b += b"\x02\x00"
    b += packed(ncols) + bitmap([1] * ncols)
    if update:
        b += bitmap([1] * ncols)
    for nulls, vals in images:
        b += bitmap(nulls) + vals
    return b


def col(t, meta=b"", nullable=1, name=b"c", unsigned=0):
    return (T[t], meta, nullable, name, unsigned)


def seed_binlog(name, sel, flags, tmap, rows, qph=0):
    put("fuzz_binlog", name, bytes([sel, flags, qph]) + struct.pack("<H", len(tmap)) + tmap + rows)


def lestr(s, w):
    return struct.pack("<Q", len(s))[:w] + s


def decimal_10_2(intpart, frac):  # DECIMAL(10,2): 4 bytes int, 1 byte frac
    b = bytearray(struct.pack(">I", intpart) + bytes([frac]))
    b[0] ^= 0x80
    return bytes(b)


# The outbox table as the relay sees it.
outbox = [col("VARCHAR", struct.pack("<H", 144), 0, b"id"),
          col("VARCHAR", struct.pack("<H", 1020), 0, b"aggregatetype"),
          col("VARCHAR", struct.pack("<H", 1020), 0, b"aggregateid"),
          col("VARCHAR", struct.pack("<H", 1020), 0, b"type"),
          col("BLOB", b"\x04", 1, b"payload")]
row = (lestr(b"7f1c", 1) + lestr(b"queue", 2) + lestr(b"sale-7", 2) +
       lestr(b"QueueChanged", 2) + lestr(b'{"queue":"sale-7"}', 4))
seed_binlog("seed-outbox-write-v2", 3, 0, table_map(outbox),
            rows_event(5, [([0] * 5, row), ([0, 0, 0, 0, 1], row[:-22])]))
seed_binlog("seed-outbox-write-v1-id4", 0, 1, table_map(outbox, idw=4),
            rows_event(5, [([0] * 5, row)], v2=False, idw=4))
seed_binlog("seed-outbox-update", 4, 2, table_map(outbox, names=False),
            rows_event(5, [([0] * 5, row), ([0] * 5, row)], update=True))
seed_binlog("seed-outbox-delete", 5, 0, table_map(outbox),
            rows_event(5, [([0] * 5, row)]))

numbers = [col("TINY"), col("SHORT", unsigned=1), col("INT24"), col("LONG"),
           col("LONGLONG", unsigned=1), col("FLOAT", b"\x04"),
           col("DOUBLE", b"\x08"), col("YEAR"), col("NEWDECIMAL", b"\x0a\x02"),
           col("BIT", b"\x02\x01")]
vals = (struct.pack("<b", -5) + struct.pack("<H", 65535) + b"\xff\xff\x7f" +
        struct.pack("<i", -123456) + struct.pack("<Q", 2**64 - 1) +
        struct.pack("<f", 1.5) + struct.pack("<d", -2.25) + b"\x7c" +
        decimal_10_2(1234, 56) + b"\x03\xff")
seed_binlog("seed-numbers", 3, 0, table_map(numbers), rows_event(10, [([0] * 10, vals)]))

times = [col("DATE"), col("TIME2", b"\x00"), col("DATETIME2", b"\x03"),
         col("TIMESTAMP2", b"\x06"), col("DATETIME"), col("TIMESTAMP"),
         col("TIME")]
dt2 = ((2024 * 13 + 2) << 22 | 29 << 17 | 13 << 12 | 45 << 6 | 30) + 0x8000000000
vals = (struct.pack("<I", 2024 << 9 | 2 << 5 | 29)[:3] +
        struct.pack(">I", 0x800000 + (12 << 12 | 34 << 6 | 56))[1:] +
        struct.pack(">Q", dt2)[3:] + struct.pack(">H", 123) +
        struct.pack(">I", 1700000000) + struct.pack(">I", 123456)[1:] +
        struct.pack("<Q", 20240229134530) + struct.pack("<I", 1700000000) +
        struct.pack("<I", 123456)[:3])
seed_binlog("seed-times", 3, 0, table_map(times), rows_event(7, [([0] * 7, vals)]))

strings = [col("STRING", bytes([T["STRING"], 12])), col("STRING", bytes([T["ENUM"], 1])),
           col("STRING", bytes([T["SET"], 1])), col("JSON", b"\x04"),
           col("BLOB", b"\x02"), col("VAR_STRING", struct.pack("<H", 300)),
           col("GEOMETRY", b"\x04"), col("STRING", bytes([0xce, 0xfc]))]
vals = (lestr(b"abc", 1) + b"\x02" + b"\x05" + lestr(b"\x00\x01\x02", 4) +
        lestr(b"text", 2) + lestr(b"vs", 2) + lestr(b"\x01\x02", 4) +
        lestr(b"x" * 300, 2))
seed_binlog("seed-strings", 3, 0, table_map(strings), rows_event(8, [([0] * 8, vals)]))
seed_binlog("seed-nulls", 3, 0, table_map(strings), rows_event(8, [([1] * 8, b"")]))

# The growing scratch nearly full when a DATETIME2 comes: 4,090 bytes of
# JSON text (a string of 4,088) in the 4 KiB it starts with.
doc = b"\x0c" + bytes([0x80 | (4088 & 0x7f), 4088 >> 7]) + b"x" * 4088
vals = lestr(doc, 4) + struct.pack(">Q", dt2)[3:] + struct.pack(">I", 123456)[1:]
seed_binlog("seed-grow-datetime2-after-json", 3, 0,
            table_map([col("JSON", b"\x04"), col("DATETIME2", b"\x06")]),
            rows_event(2, [([0, 0], vals)]))

# MySQL 9 VECTOR (4-byte length, float32s); a negative TIME2(3) with a
# fraction (-01:02:03.040: integer part rounded down, fraction counted up).
vals = struct.pack("<i", 7) + lestr(struct.pack("<3f", 1, -2.5, 3e38), 4)
seed_binlog("seed-vector", 3, 0,
            table_map([col("LONG"), col("VECTOR", b"\x04")]),
            rows_event(2, [([0, 0], vals)]))
vals = struct.pack(">I", 0x800000 - (1 << 12 | 2 << 6 | 3) - 1)[1:] + struct.pack(">H", 0x10000 - 400)
seed_binlog("seed-time2-negative", 3, 0, table_map([col("TIME2", b"\x03")]),
            rows_event(1, [([0], vals)]))

# Other event bodies (given to every body decoder; no table map).
seed_binlog("seed-rotate", 0, 0, b"", struct.pack("<Q", 4) + b"bin.000042")
seed_binlog("seed-gtid-maria", 18, 0, b"", struct.pack("<QIB", 100, 0, 1))
seed_binlog("seed-gtid-mysql", 0, 0, b"",
            b"\x01" + bytes(range(16)) + struct.pack("<Q", 11) + b"\x02" +
            bytes(16) + struct.pack("<Q", 1700000000000000)[:7])
query = struct.pack("<IIBHH", 5, 0, 4, 0, 0) + b"shop\0BEGIN"
seed_binlog("seed-query", 0, 0, b"", query, qph=13)
seed_binlog("seed-table-id", 0, 0, b"", table_map(outbox))
payload = b"\x02\x01\x00\x03\x01\x05\x00" + bytes.fromhex("28b52ffd2005290000" + "48656c6c6f")
seed_binlog("seed-payload", 0, 0, b"", payload)


def event(type_, body, crc=True):
    size = 19 + len(body) + (4 if crc else 0)
    ev = struct.pack("<IBIIIH", 1700000000, type_, 1, size, 0, 0) + body
    return ev + struct.pack("<I", zlib.crc32(ev)) if crc else ev


fde_body = (struct.pack("<H", 4) + b"8.0.36".ljust(50, b"\0") +
            struct.pack("<I", 0) + b"\x13" + bytes([0, 13, 0, 8, 0, 0, 0, 0]) +
            bytes(range(31)) + b"\x01")
seed_binlog("seed-fde", 0, 2, b"", event(15, fde_body))
seed_binlog("seed-xid", 0, 2, b"", event(16, struct.pack("<Q", 9)))
