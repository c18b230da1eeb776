"""Bad statements over the wire: each gets a PostgreSQL error with a SQLSTATE that is
not an internal one, and the session goes on."""

from __future__ import annotations

import socket
import struct
import time

import psycopg
import pytest

from tests.pgwire.conftest import RunningServer
from tests.sqlstream.malformed import SETUP, huge, nesting, odd_characters, semantic, soups, truncations


def _msg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _startup() -> bytes:
    body = struct.pack("!i", 196608) + b"user\0root\0database\0dev\0\0"
    return struct.pack("!i", len(body) + 4) + body


def _exchange(port: int, data: bytes) -> list[tuple[bytes, bytes]]:
    """Send `data` after a startup, then Terminate; the server's messages until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(_startup() + data + _msg(b"X", b""))
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    out, i = [], 0
    while i + 5 <= len(buf):
        (n,) = struct.unpack("!i", buf[i + 1:i + 5])
        out.append((buf[i:i + 1], buf[i + 5:i + 1 + n]))
        i += 1 + n
    return out


def _fields(body: bytes) -> dict[str, str]:
    return {f[:1].decode(): f[1:].decode() for f in body.split(b"\0") if f}


@pytest.mark.parametrize("bad", [b"SELECT '\xff'", b"SELECT 1 \xc3\x28", b"\x80"])
def test_invalid_utf8_fails_the_statement_not_the_session(server: RunningServer,
                                                          bad: bytes) -> None:
    replies = _exchange(server.port, _msg(b"Q", bad + b"\0")
                        + _msg(b"Q", b"SELECT 42\0"))
    kinds = [k for k, _ in replies]
    errors = [_fields(b) for k, b in replies if k == b"E"]
    assert len(errors) == 1 and errors[0]["C"] == "22021", errors
    assert errors[0]["M"].startswith('invalid byte sequence for encoding "UTF8": 0x')
    after = kinds[kinds.index(b"E"):]
    assert after[:2] == [b"E", b"Z"]
    assert (b"D", struct.pack("!hi", 1, 2) + b"42") in replies


def test_invalid_utf8_in_extended_protocol(server: RunningServer) -> None:
    parse = _msg(b"P", b"\0SELECT '\xfe'\0" + struct.pack("!h", 0))
    replies = _exchange(server.port, parse + _msg(b"S", b"") + _msg(b"Q", b"SELECT 7\0"))
    errors = [_fields(b) for k, b in replies if k == b"E"]
    assert [e["C"] for e in errors] == ["22021"]
    assert (b"D", struct.pack("!hi", 1, 1) + b"7") in replies


def test_deep_nesting_is_answered_at_once(server: RunningServer) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        started = time.monotonic()
        with pytest.raises(psycopg.Error) as info:
            conn.execute("SELECT " + "(" * 600 + "1" + ")" * 600)
        assert info.value.sqlstate == "54001"
        assert time.monotonic() - started < 2
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_malformed_sql_over_the_wire(server: RunningServer) -> None:
    statements = (list(truncations())[::3] + list(soups(100, seed=3)) + list(nesting())
                  + list(huge(100_000)) + [s for s in odd_characters() if "\ud800" not in s
                                           and "\udfff" not in s and "\x00" not in s]
                  + list(semantic()))
    codes: dict[str, int] = {}
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        for sql in SETUP:
            conn.execute(sql.replace(" s ", " ws ").replace(" s(", " ws(")
                         .replace("TABLE s", "TABLE ws").replace("INTO s", "INTO ws")
                         .replace("FROM s", "FROM ws").replace(" sv ", " wsv ")
                         .replace("TABLE w ", "TABLE ww "))
        for sql in statements:
            try:
                conn.execute(sql)
                code = "ok"
            except psycopg.Error as e:
                code = e.sqlstate or "?"
                assert code[:2] not in ("XX", "08") and len(code) == 5, (sql[:200], code, e)
            codes[code] = codes.get(code, 0) + 1
        assert conn.execute("SELECT count(*) FROM ws").fetchone() == (4,)
    assert codes.get("42601", 0) > 50
