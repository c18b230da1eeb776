"""Wire encodings checked against psycopg's own binary and text adapters (an
independent implementation of the PostgreSQL formats)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.adapt import PyFormat
from psycopg.pq import Format

from planner import types as T
from sqlstream.pgwire import codec

UTC = dt.timezone.utc


def _load(oid: int, fmt: Format, data: bytes):
    return psycopg.adapters.get_loader(oid, fmt)(oid).load(data)


def _dump_binary(value) -> bytes:
    return bytes(psycopg.adapters.get_dumper(type(value), PyFormat.BINARY)(type(value))
                 .dump(value))


CASES = [
    (T.INT16, -123), (T.INT32, 2_000_000_000), (T.INT64, -(2 ** 62)), (T.FLOAT64, 3.25),
    (T.FLOAT32, 1.5), (T.BOOLEAN, True), (T.VARCHAR, "héllo"), (T.BYTEA, b"\x00\xffab"),
    (T.DATE, dt.date(1999, 12, 31)), (T.TIME, dt.time(23, 59, 59, 123456)),
    (T.TIMESTAMP, dt.datetime(2024, 2, 29, 12, 0, 1, 5)),
    (T.TIMESTAMPTZ, dt.datetime(1970, 1, 1, 0, 0, tzinfo=UTC)),
    (T.DECIMAL, Decimal("-12345.678900")), (T.DECIMAL, Decimal("0.0001")),
    (T.DECIMAL, Decimal("1E+12")), (T.DECIMAL, Decimal("0")),
]


@pytest.mark.parametrize("fmt", [Format.TEXT, Format.BINARY])
@pytest.mark.parametrize("t,value", CASES, ids=[f"{t.name}-{v!r}" for t, v in CASES])
def test_psycopg_reads_what_we_write(t: T.DataType, value, fmt: Format) -> None:
    data = codec.encoder(t, int(fmt))(value)
    got = _load(codec.wire_oid(t), fmt, data)
    assert got == value


def test_interval_both_formats() -> None:
    iv = T.Interval(0, 3, 4 * 3_600_000_000 + 5)
    want = dt.timedelta(days=3, hours=4, microseconds=5)
    assert _load(1186, Format.BINARY, codec.encoder(T.INTERVAL, 1)(iv)) == want
    assert _load(1186, Format.TEXT, codec.encoder(T.INTERVAL, 0)(iv)) == want


@settings(max_examples=200, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6,
                   min_value=-10 ** 20, max_value=10 ** 20))
def test_numeric_binary_matches_psycopg(d: Decimal) -> None:
    assert codec.encoder(T.DECIMAL, 1)(d) == _dump_binary(d)
    assert codec.decode_param(1700, 1, _dump_binary(d)) == d


@pytest.mark.parametrize("value", [
    7, -(2 ** 40), 2.5, True, dt.date(2020, 5, 6), dt.datetime(2020, 5, 6, 7, 8, 9),
    dt.datetime(2020, 5, 6, 7, 8, tzinfo=UTC), dt.time(1, 2, 3), b"\x01\x02", "txt",
    Decimal("-3.25"), dt.timedelta(days=2, seconds=5)])
def test_binary_params_decode(value) -> None:
    dumper = psycopg.adapters.get_dumper(type(value), PyFormat.BINARY)(type(value))
    dumper = dumper.upgrade(value, PyFormat.BINARY)
    got = codec.decode_param(dumper.oid, 1, bytes(dumper.dump(value)))
    if isinstance(value, dt.timedelta):
        got = got.to_timedelta()
    assert got == value


def test_text_params_decode() -> None:
    assert codec.decode_param(23, 0, b"42") == 42
    assert codec.decode_param(1700, 0, b"1.50") == Decimal("1.50")
    assert codec.decode_param(16, 0, b"t") is True
    assert codec.decode_param(1184, 0, b"2020-01-02 03:04:05+02") == dt.datetime(
        2020, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert codec.decode_param(0, 0, b"anything") == "anything"
    assert codec.decode_param(23, 0, None) is None
    with pytest.raises(Exception) as info:
        codec.decode_param(23, 0, b"x1")
    assert getattr(info.value, "sqlstate", None) == "22P02"
