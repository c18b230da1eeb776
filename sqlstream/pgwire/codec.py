"""Values to and from the wire: PostgreSQL text and binary formats of the common types.

Encoders are chosen once per result column (per chunk of rows, not per value type).
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from typing import Any, Callable

from planner import types as T
from planner.errors import DataError

Encoder = Callable[[Any], bytes]

PG_EPOCH = dt.datetime(2000, 1, 1)
PG_EPOCH_TZ = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
PG_EPOCH_DATE = dt.date(2000, 1, 1)

# Wire OIDs of the types we speak, beyond DataType.pg_oid (aliases clients send).
OID_TEXT = 25
OID_UNKNOWN = 705
OID_TYPES: dict[int, T.DataType] = {t.pg_oid: t for t in T.ALL_TYPES}
OID_TYPES.update({25: T.VARCHAR, 1042: T.VARCHAR, 19: T.VARCHAR, 18: T.VARCHAR,
                  26: T.INT64, 705: T.VARCHAR, 114: T.VARCHAR, 3802: T.VARCHAR})


def wire_oid(t: T.DataType) -> int:
    """The OID announced for a column of type t (unknown columns read as text)."""
    return OID_TEXT if t.pg_oid == OID_UNKNOWN else t.pg_oid


# ---------------------------------------------------------------- text

def _text_generic(v: Any) -> bytes:
    return T.to_text(v).encode("utf-8")


def text_encoder(t: T.DataType) -> Encoder:
    """Text format is PostgreSQL's output syntax of the value, whatever its column type."""
    return _text_generic


# ---------------------------------------------------------------- binary

def _numeric_bin(v: Any) -> bytes:
    d = v if isinstance(v, decimal.Decimal) else decimal.Decimal(str(v))
    if d.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    if d.is_infinite():
        return struct.pack("!hhHh", 0, 0, 0xF000 if d < 0 else 0xD000, 0)
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    dscale = max(0, -exp)
    s = "".join(map(str, digits))
    if exp >= 0:
        int_part, frac = s + "0" * exp, ""
    elif len(s) > -exp:
        int_part, frac = s[:exp], s[exp:]
    else:
        int_part, frac = "", "0" * (-exp - len(s)) + s
    int_part = int_part.lstrip("0")
    int_part = "0" * (-len(int_part) % 4) + int_part
    frac = frac + "0" * (-len(frac) % 4)
    groups = [int(int_part[i:i + 4]) for i in range(0, len(int_part), 4)]
    groups += [int(frac[i:i + 4]) for i in range(0, len(frac), 4)]
    weight = len(int_part) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return (struct.pack("!hhHh", len(groups), weight, 0x4000 if sign else 0, dscale)
            + struct.pack(f"!{len(groups)}H", *groups))


def _numeric_from_bin(b: bytes) -> decimal.Decimal:
    ndigits, weight, sign, dscale = struct.unpack("!hhHh", b[:8])
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    if sign == 0xD000:
        return decimal.Decimal("Infinity")
    if sign == 0xF000:
        return decimal.Decimal("-Infinity")
    groups = struct.unpack(f"!{ndigits}H", b[8:8 + 2 * ndigits])
    value = 0
    for g in groups:
        value = value * 10000 + g
    exp10 = (weight - ndigits + 1) * 4
    d = decimal.Decimal(value).scaleb(exp10)
    if sign == 0x4000:
        d = -d
    return d.quantize(decimal.Decimal(1).scaleb(-dscale)) if dscale <= 1000 else d


def _as(t: T.DataType, v: Any) -> Any:
    try:
        return T.coerce(v, t)
    except (ValueError, OverflowError) as e:
        raise DataError(str(e), "22P02") from None


def _micros(td: dt.timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def _bin_timestamp(v: Any) -> bytes:
    v = _as(T.TIMESTAMP, v)
    return struct.pack("!q", _micros(v - PG_EPOCH))


def _bin_timestamptz(v: Any) -> bytes:
    v = _as(T.TIMESTAMPTZ, v)
    return struct.pack("!q", _micros(v - PG_EPOCH_TZ))


def _bin_time(v: Any) -> bytes:
    v = _as(T.TIME, v)
    return struct.pack("!q", ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000
                       + v.microsecond)


def _bin_interval(v: Any) -> bytes:
    iv = _as(T.INTERVAL, v)
    return struct.pack("!qii", iv.micros, iv.days, iv.months)


def _bin_text(v: Any) -> bytes:
    return (v if isinstance(v, str) else T.to_text(v)).encode("utf-8")


def _packer(fmt: str, t: T.DataType) -> Encoder:
    s = struct.Struct(fmt)
    return lambda v: s.pack(_as(t, v))


_BINARY: dict[str, Encoder] = {
    "smallint": _packer("!h", T.INT16),
    "integer": _packer("!i", T.INT32),
    "bigint": _packer("!q", T.INT64),
    "real": _packer("!f", T.FLOAT32),
    "double precision": _packer("!d", T.FLOAT64),
    "boolean": lambda v: b"\x01" if _as(T.BOOLEAN, v) else b"\x00",
    "numeric": lambda v: _numeric_bin(_as(T.DECIMAL, v)),
    "date": lambda v: struct.pack("!i", (_as(T.DATE, v) - PG_EPOCH_DATE).days),
    "time": _bin_time,
    "timestamp": _bin_timestamp,
    "timestamptz": _bin_timestamptz,
    "interval": _bin_interval,
    "bytea": lambda v: _as(T.BYTEA, v),
    "varchar": _bin_text,
    "unknown": _bin_text,
}


def encoder(t: T.DataType, fmt: int) -> Encoder:
    """The function turning a non-NULL value of type t into its wire bytes."""
    if fmt == 1:
        return _BINARY.get(t.name, _bin_text)
    return text_encoder(t)


# ---------------------------------------------------------------- parameters in

def _parse_text(t: T.DataType, text: str) -> Any:
    if t.name == "bytea":
        return bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()
    if t.name == "timestamptz":
        text = text.strip()
        if len(text) > 3 and text[-3] in "+-" and text[-2:].isdigit() and ":" in text:
            text += ":00"  # '+02' -> '+02:00' for fromisoformat
    return T.coerce(text, t)


def _from_binary(t: T.DataType, b: bytes) -> Any:
    name = t.name
    if name == "smallint":
        return struct.unpack("!h", b)[0]
    if name == "integer":
        return struct.unpack("!i", b)[0]
    if name == "bigint":
        return struct.unpack("!q", b)[0]
    if name == "real":
        return struct.unpack("!f", b)[0]
    if name == "double precision":
        return struct.unpack("!d", b)[0]
    if name == "boolean":
        return b != b"\x00"
    if name == "numeric":
        return _numeric_from_bin(b)
    if name == "date":
        return PG_EPOCH_DATE + dt.timedelta(days=struct.unpack("!i", b)[0])
    if name == "time":
        micros = struct.unpack("!q", b)[0]
        return (dt.datetime.min + dt.timedelta(microseconds=micros)).time()
    if name == "timestamp":
        return PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0])
    if name == "timestamptz":
        return PG_EPOCH_TZ + dt.timedelta(microseconds=struct.unpack("!q", b)[0])
    if name == "interval":
        micros, days, months = struct.unpack("!qii", b)
        return T.Interval(months, days, micros)
    if name == "bytea":
        return bytes(b)
    return b.decode("utf-8")


def decode_param(oid: int, fmt: int, raw: bytes | None) -> Any:
    """A Bind parameter as a Python value of its declared type (text for unknown)."""
    if raw is None:
        return None
    t = OID_TYPES.get(oid)
    try:
        if fmt == 1:
            if t is None:
                if oid in (OID_UNKNOWN, 0):
                    return raw.decode("utf-8")
                raise DataError(f"binary format for type oid {oid} is not supported", "0A000")
            return _from_binary(t, raw)
        text = raw.decode("utf-8")
        if t is None or t.name == "varchar" or oid in (OID_UNKNOWN, 0):
            return text
        return _parse_text(t, text)
    except (ValueError, OverflowError, struct.error, UnicodeDecodeError,
            decimal.InvalidOperation) as e:
        name = t.name if t else str(oid)
        raise DataError(f"invalid value for parameter of type {name}: {e}", "22P02") from None
