"""Random and mutated protocol messages end only their own connection: afterwards a
normal client still works and the data are intact."""

from __future__ import annotations

import socket
import struct

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pgwire.conftest import RunningServer, start_server


def _msg(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _startup() -> bytes:
    body = struct.pack("!i", 196608) + b"user\0root\0database\0dev\0\0"
    return struct.pack("!i", len(body) + 4) + body


def _cstr(s: str) -> bytes:
    return s.encode() + b"\0"


VALID_EXTENDED = (
    _msg(b"P", _cstr("") + _cstr("SELECT v FROM fuzz_t WHERE k = $1") + struct.pack("!hi", 1, 23))
    + _msg(b"B", _cstr("") + _cstr("") + struct.pack("!hh", 0, 1) + struct.pack("!i", 1) + b"1"
           + struct.pack("!h", 0))
    + _msg(b"D", b"P" + _cstr("")) + _msg(b"E", _cstr("") + struct.pack("!i", 0))
    + _msg(b"S", b"")
)
VALID_SIMPLE = _msg(b"Q", _cstr("SELECT count(*) FROM fuzz_t"))

random_message = st.builds(
    lambda kind, body, lie, delta: (kind + struct.pack("!i", len(body) + 4 + delta) + body
                                    if lie else _msg(kind, body)),
    st.sampled_from([b"Q", b"P", b"B", b"D", b"E", b"S", b"H", b"C", b"d", b"c", b"F", b"p",
                     b"Z", b"\0", b"\xff"]),
    st.binary(max_size=64), st.booleans(), st.integers(-8, 64))


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from([VALID_EXTENDED, VALID_SIMPLE])))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data[:draw(st.integers(1, len(data)))])


payloads = st.one_of(
    st.binary(max_size=200),  # garbage instead of a startup packet
    st.lists(random_message, max_size=6).map(lambda ms: _startup() + b"".join(ms)),
    mutated().map(lambda m: _startup() + m),
    st.binary(min_size=1, max_size=40).map(lambda b: struct.pack("!i", 8) + b),
)


def _send(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)  # the server sees end of input, as from a dropped client
            while s.recv(65536):
                pass
        except (ConnectionError, socket.timeout, OSError):
            pass


@pytest.fixture(scope="module")
def fuzz_server():
    srv = start_server()
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        c.execute("CREATE TABLE fuzz_t (k INT, v VARCHAR)")
        c.execute("INSERT INTO fuzz_t VALUES (1, 'one'), (2, 'two'), (3, 'three')")
        c.execute("FLUSH")
    yield srv
    srv.close()


def test_valid_messages_work(fuzz_server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=5) as s:
        s.sendall(_startup() + VALID_EXTENDED + _msg(b"X", b""))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert b"one" in data and b"Z" in data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(payloads)
def test_garbage_ends_only_its_connection(fuzz_server: RunningServer, data: bytes) -> None:
    _send(fuzz_server.port, data)


def test_server_healthy_after_fuzz(fuzz_server: RunningServer) -> None:
    half_open = socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=3)
    half_open.sendall(_startup()[:5])  # a client that stops mid-packet
    try:
        with psycopg.connect(fuzz_server.dsn(), autocommit=True) as c:
            rows = c.execute("SELECT k, v FROM fuzz_t ORDER BY k").fetchall()
            assert rows == [(1, "one"), (2, "two"), (3, "three")]
            c.execute("INSERT INTO fuzz_t VALUES (%s, %s)", (4, "four"))
            c.execute("FLUSH")
            assert c.execute("SELECT count(*) FROM fuzz_t").fetchone() == (4,)
    finally:
        half_open.close()
