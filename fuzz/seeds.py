#!/usr/bin/env python3
"""Cuts relay captures (fuzz/relay.py) into seed corpora; run by fuzz/seed.sh.

Usage: seeds.py CAP_PG CAP_MY CORPUS

- pg_frames: every PostgreSQL client stream (startup + frames) and server stream.
- mysql_packets: every MySQL client and server stream.
- router_pg: SQL of each Query and Parse a PostgreSQL client sent; for a Parse followed
  by a Bind, `sql \\0 params` in the target's parameter encoding (fuzz/src/lib.rs).
- router_mysql: SQL of each COM_QUERY and COM_STMT_PREPARE a MySQL client sent.
- merge_compare: real result values (PostgreSQL DataRows typed by RowDescription, MySQL
  text rows typed by column definitions), as `[kind, kind, flags] a \\xff\\xfe b \\xff\\xfe c`
  triples of one column (kind numbers: KINDS in proxy/src/merge/fuzzing.rs).
- session_token: tokens built as proxy/src/consistency/token.rs lays them out, valid
  and damaged (the proxy's own format; no client sends them).

Seeds are named by their content's SHA-1, as libFuzzer names corpus files.
"""

import base64
import glob
import hashlib
import os
import struct
import sys
import zlib

MAX_SEED = 32 * 1024

# Kind numbers of proxy/src/merge/fuzzing.rs (KINDS).
K_INT, K_OID, K_NUMERIC, K_FLOAT4, K_FLOAT8, K_TEXT, K_BPCHAR, K_BOOL = range(8)
K_DATE, K_TS, K_TSTZ, K_TIME, K_UUID, K_BIN, K_CI, K_MYTIME, K_OTHER = range(8, 17)

PG_KINDS = {
    21: K_INT, 23: K_INT, 20: K_INT, 26: K_OID, 1700: K_NUMERIC, 700: K_FLOAT4,
    701: K_FLOAT8, 25: K_TEXT, 1043: K_TEXT, 19: K_TEXT, 1042: K_BPCHAR, 16: K_BOOL,
    1082: K_DATE, 1114: K_TS, 1184: K_TSTZ, 1083: K_TIME, 2950: K_UUID,
}
# Parameter types of the router targets (TYPES in fuzz/src/lib.rs).
PARAM_TYPES = [0, 21, 23, 20, 25, 1043, 2950, 1042, 19, 705, 1005, 1007, 1016, 1009, 1015, 2951]


def save(corpus, target, data):
    if not data:
        return
    data = data[:MAX_SEED]
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------------------------------------ PostgreSQL
def pg_frames(data, startup):
    """(tag, body) of each frame; startup packets come first as tag None."""
    at = 0
    if startup:
        while at + 8 <= len(data):
            n = struct.unpack(">i", data[at:at + 4])[0]
            code = struct.unpack(">i", data[at + 4:at + 8])[0]
            yield None, data[at + 4:at + n]
            at += n
            if code not in (80877103, 80877104):  # SSL/GSSENC: another packet follows
                break
    while at + 5 <= len(data):
        n = struct.unpack(">i", data[at + 1:at + 5])[0]
        yield data[at:at + 1], data[at + 5:at + 1 + n]
        at += 1 + n


def cstr(b, at):
    end = b.index(b"\0", at)
    return b[at:end], end + 1


def pg_client(corpus, data):
    parses = {}
    for tag, body in pg_frames(data, True):
        try:
            if tag == b"Q":
                save(corpus, "router_pg", cstr(body, 0)[0])
            elif tag == b"P":
                name, at = cstr(body, 0)
                sql, at = cstr(body, at)
                (n,) = struct.unpack(">h", body[at:at + 2])
                types = struct.unpack(f">{n}I", body[at + 2:at + 2 + 4 * n])
                parses[name] = (sql, types)
                save(corpus, "router_pg", sql)
            elif tag == b"B":
                _portal, at = cstr(body, 0)
                stmt, at = cstr(body, at)
                (nf,) = struct.unpack(">h", body[at:at + 2])
                formats = struct.unpack(f">{nf}h", body[at + 2:at + 2 + 2 * nf])
                at += 2 + 2 * nf
                (nv,) = struct.unpack(">h", body[at:at + 2])
                at += 2
                sql, types = parses.get(stmt, (b"", ()))
                params = b""
                for i in range(nv):
                    (ln,) = struct.unpack(">i", body[at:at + 4])
                    at += 4
                    value = b"" if ln < 0 else body[at:at + ln]
                    at += max(ln, 0)
                    fmt = formats[0] if nf == 1 else (formats[i] if i < nf else 0)
                    t = types[i] if i < len(types) else 0
                    ti = PARAM_TYPES.index(t) if t in PARAM_TYPES else 0
                    flags = (ti << 2) | (2 if ln < 0 else 0) | (1 if fmt == 1 else 0)
                    params += bytes([flags, min(len(value), 255)]) + value[:255]
                if sql:
                    save(corpus, "router_pg", sql + b"\0" + params)
        except (ValueError, struct.error):
            continue


def pg_server(corpus, data):
    kinds = []
    columns = {}
    for tag, body in pg_frames(data, False):
        try:
            if tag == b"T":
                (n,) = struct.unpack(">h", body[:2])
                at, kinds = 2, []
                for _ in range(n):
                    _name, at = cstr(body, at)
                    oid = struct.unpack(">I", body[at + 6:at + 10])[0]
                    fmt = struct.unpack(">h", body[at + 16:at + 18])[0]
                    kinds.append((PG_KINDS.get(oid, K_OTHER), fmt == 1))
                    at += 18
            elif tag == b"D":
                (n,) = struct.unpack(">h", body[:2])
                at = 2
                for i in range(n):
                    (ln,) = struct.unpack(">i", body[at:at + 4])
                    at += 4
                    if ln >= 0 and i < len(kinds):
                        columns.setdefault(kinds[i], []).append(body[at:at + ln])
                        at += ln
        except (ValueError, struct.error):
            continue
    return columns


# ------------------------------------------------------------------ MySQL
def my_packets(data):
    at = 0
    while at + 4 <= len(data):
        n = data[at] | data[at + 1] << 8 | data[at + 2] << 16
        yield data[at + 3], data[at + 4:at + 4 + n]
        at += 4 + n


def lenenc(b, at):
    c = b[at]
    if c < 0xFB:
        return c, at + 1
    if c == 0xFB:
        return None, at + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[c]
    return int.from_bytes(b[at + 1:at + 1 + size], "little"), at + 1 + size


def my_client(corpus, data):
    for seq, payload in my_packets(data):
        if seq == 0 and payload[:1] in (b"\x03", b"\x16"):
            save(corpus, "router_mysql", payload[1:])


def my_kind(charset, ctype):
    if ctype in (0x00, 0xF6):
        return K_NUMERIC
    if ctype == 0x05:
        return K_FLOAT8
    if ctype == 0x04:
        return K_FLOAT4
    if ctype in (0x01, 0x02, 0x03, 0x08, 0x09):
        return K_INT
    if ctype == 0x0B:
        return K_MYTIME
    if charset in (33, 45):
        return K_CI
    if charset in (46, 47, 65, 83):
        return K_BIN
    return K_OTHER


def my_server(data):
    """Typed text-row values per (kind, binary=False) from the result sets."""
    columns = {}
    state, count, kinds = "idle", 0, []
    for seq, p in my_packets(data):
        if not p:
            continue
        try:
            if state == "idle":
                if seq == 1 and p[0] not in (0x00, 0xFF, 0xFB):
                    count, _ = lenenc(p, 0)
                    state, kinds = "cols", []
            elif state == "cols":
                at = 0
                for _ in range(6):
                    ln, at = lenenc(p, at)
                    at += ln or 0
                if p[at] != 0x0C:  # MariaDB extended metadata
                    ln, at = lenenc(p, at)
                    at += ln or 0
                _, at = lenenc(p, at)
                charset = int.from_bytes(p[at:at + 2], "little")
                kinds.append(my_kind(charset, p[at + 6]))
                if len(kinds) == count:
                    state = "eof"
            elif p[0] == 0xFE and len(p) < 9 and state == "eof":
                state = "rows"
            elif p[0] in (0xFE, 0xFF) and state == "rows":
                state = "idle"
            else:
                state, at = "rows", 0
                for k in kinds:
                    ln, at = lenenc(p, at)
                    if ln is not None:
                        columns.setdefault((k, False), []).append(p[at:at + ln])
                        at += ln
        except (IndexError, KeyError, TypeError):
            state = "idle"
    return columns


# ------------------------------------------------------------------ merge
def merge_seeds(corpus, columns):
    for (kind, binary), values in columns.items():
        values = list(dict.fromkeys(values))
        for i in range(0, len(values), 3):
            a, b, c = (values[i:i + 3] + [values[0], values[-1]])[:3]
            flags = 7 if binary else 0
            save(corpus, "merge_compare", bytes([kind, kind, flags]) + a + b"\xff\xfe" + b + b"\xff\xfe" + c)
    # Binary encodings, as PostgreSQL's send functions write them.
    binary = [
        (K_INT, struct.pack(">h", -2), struct.pack(">i", 7), struct.pack(">q", 1 << 40)),
        (K_FLOAT8, struct.pack(">d", -0.0), struct.pack(">d", float("nan")), struct.pack(">d", 1e300)),
        (K_FLOAT4, struct.pack(">f", 1.5), struct.pack(">f", float("inf")), struct.pack(">f", -1.5)),
        # numeric 12345.678 (ndigits 3, weight 1, sign +, dscale 3), NaN, -0.5
        (K_NUMERIC, struct.pack(">hhHH3H", 3, 1, 0, 3, 1, 2345, 6780),
         struct.pack(">hhHH", 0, 0, 0xC000, 0), struct.pack(">hhHHH", 1, -1, 0x4000, 1, 5000)),
        (K_DATE, struct.pack(">i", 0), struct.pack(">i", 0x7FFFFFFF), struct.pack(">i", -1)),
        (K_TS, struct.pack(">q", 0), struct.pack(">q", -(1 << 62)), struct.pack(">q", 86400000000)),
        (K_BOOL, b"\x01", b"\x00", b"\x01"),
        (K_UUID, bytes(16), bytes(range(16)), b"\xff" * 16),
    ]
    for kind, a, b, c in binary:
        save(corpus, "merge_compare", bytes([kind, kind, 7]) + a + b"\xff\xfe" + b + b"\xff\xfe" + c)
    # Across kinds: an integer against a numeric and a float.
    save(corpus, "merge_compare", bytes([K_INT, K_NUMERIC, 0]) + b"9007199254740993\xff\xfe9007199254740992.5\xff\xfe1")
    save(corpus, "merge_compare", bytes([K_NUMERIC, K_FLOAT8, 0]) + b"0.1\xff\xfe0.1\xff\xfe1e-1")


# ------------------------------------------------------------------ tokens
def token(entries, database="app", version=1):
    body = bytes([version]) + struct.pack(">II", zlib.crc32(database.encode()), len(entries))
    for shard, lsn in entries:
        body += struct.pack(">IQ", shard, lsn)
    body += struct.pack(">I", zlib.crc32(body))
    return f"sw{version}.".encode() + base64.urlsafe_b64encode(body).rstrip(b"=")


def token_seeds(corpus):
    seeds = [
        token([]),
        token([(0, 0x16B374D848)]),
        token([(0, 1), (1, 2), (7, 0xFFFFFFFFFFFFFFFF)]),
        token([(3, 5)], database=""),
        token([(1, 1), (0, 2)]),  # out of order
        b"  " + token([(2, 9)]) + b"\n",
        token([(0, 1)], version=2),
        token([(0, 1)])[:-3],
        b"sw1.",
        b"sw01." + token([(0, 1)])[4:],
        b"sw99999999999.AAAA",
        b"nonsense",
    ]
    for s in seeds:
        save(corpus, "session_token", s)
    # The shards/LSN records the target builds tokens from.
    save(corpus, "session_token", struct.pack(">IQIQ", 0, 1, 5, 1 << 63))


def main():
    cap_pg, cap_my, corpus = sys.argv[1:4]
    columns = {}
    for path in sorted(glob.glob(os.path.join(cap_pg, "*.client"))):
        data = read(path)
        save(corpus, "pg_frames", data)
        pg_client(corpus, data)
    for path in sorted(glob.glob(os.path.join(cap_pg, "*.server"))):
        data = read(path)
        save(corpus, "pg_frames", data)
        for k, v in pg_server(corpus, data).items():
            columns.setdefault(k, []).extend(v)
    for path in sorted(glob.glob(os.path.join(cap_my, "*.client"))):
        data = read(path)
        save(corpus, "mysql_packets", data)
        my_client(corpus, data)
    for path in sorted(glob.glob(os.path.join(cap_my, "*.server"))):
        data = read(path)
        save(corpus, "mysql_packets", data)
        for k, v in my_server(data).items():
            columns.setdefault(k, []).extend(v)
    merge_seeds(corpus, columns)
    token_seeds(corpus)
    for target in sorted(os.listdir(corpus)):
        files = os.listdir(os.path.join(corpus, target))
        size = sum(os.path.getsize(os.path.join(corpus, target, f)) for f in files)
        print(f"{target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
