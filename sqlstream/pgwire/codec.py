"""Values to and from the wire: PostgreSQL text and binary formats of the common types.

Encoders are chosen once per result column (per chunk of rows, not per value type).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import struct
from typing import Any, Callable

from planner import types as T
from planner.errors import DataError
from sqlstream.query import array_dims

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


# Array OID -> element OID and type (text[] has elements of OID 25, read as varchar).
ARRAY_ELEMENT_OIDS = {arr: elem for elem, arr in T.ARRAY_OIDS.items()} | {1028: 26}
ARRAY_ELEMENTS = {arr: OID_TYPES[elem] for arr, elem in ARRAY_ELEMENT_OIDS.items()}


def wire_oid(t: T.DataType) -> int:
    """The OID announced for a column of type t (unknown columns read as text)."""
    return OID_TEXT if t.pg_oid == OID_UNKNOWN else t.pg_oid


# ---------------------------------------------------------------- text

def _text_generic(v: Any) -> bytes:
    return T.to_text(v).encode("utf-8")


def text_encoder(t: T.DataType) -> Encoder:
    """Text format is PostgreSQL's output syntax of the value, whatever its column type."""
    if t.pg_oid in ARRAY_ELEMENTS:
        return lambda v: array_text(v).encode("utf-8")
    return _text_generic


# ---------------------------------------------------------------- arrays

_QUOTE_IN_ARRAY = re.compile(r'[{},"\\ \t\n\r\v\f]')
_SPACE = " \t\n\r\v\f"  # what PostgreSQL's array syntax counts as white space
NOT_RECTANGULAR = "multidimensional arrays must have array expressions with matching dimensions"


def _array_item(text: str) -> str:
    if text == "" or text.upper() == "NULL" or _QUOTE_IN_ARRAY.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def array_text(v: Any) -> str:
    """PostgreSQL's text form of an array: `{1,2,NULL}`, `{{1,2},{3,4}}`, `{"a b"}`."""
    if not isinstance(v, (list, tuple)):
        return _array_item(T.to_text(v))
    dims = array_dims(v)
    if dims is not None and 0 in dims:
        return "{}"
    return "{" + ",".join("NULL" if x is None else array_text(x) for x in v) + "}"


def array_binary(v: Any, elem_oid: int, enc: Encoder) -> bytes:
    """PostgreSQL's binary array: dimensions, has-null flag, element OID, each dimension's
    size and lower bound (1), then each element (length-prefixed, -1 for NULL)."""
    dims = array_dims(v)
    if dims is None:
        raise DataError(NOT_RECTANGULAR, "2202E")
    if 0 in dims:
        return struct.pack("!iii", 0, 0, elem_oid)
    flat: list[Any] = list(v)
    for _ in dims[1:]:
        flat = [y for x in flat for y in x]
    parts = [struct.pack("!iii", len(dims), 1 if None in flat else 0, elem_oid)]
    parts += [struct.pack("!ii", d, 1) for d in dims]
    for x in flat:
        if x is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            b = enc(x)
            parts.append(struct.pack("!i", len(b)) + b)
    return b"".join(parts)


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
    elem = ARRAY_ELEMENTS.get(t.pg_oid)
    if fmt == 1 and elem is not None:
        elem_oid, enc = ARRAY_ELEMENT_OIDS[t.pg_oid], encoder(elem, 1)
        return lambda v: array_binary(v, elem_oid, enc)
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


class ArrayParam(list):
    """An array parameter: a list whose str() is DuckDB's list syntax, so that the engine,
    which binds a value it has no literal for as a string, can cast it back
    (`'["a b", NULL]'::VARCHAR[]`)."""

    def __str__(self) -> str:
        return "[" + ", ".join(_duck_item(x) for x in self) + "]"


def _duck_item(x: Any) -> str:
    if x is None:
        return "NULL"
    if isinstance(x, list):
        return str(ArrayParam(x))
    text = T.to_text(x)
    return '"' + re.sub(r"""(["'\\])""", r"\\\1", text) + '"'


def parse_array(text: str, elem: T.DataType) -> list:
    """A list (of lists) from PostgreSQL's array text `{1,"a b",NULL,{2}}`; a leading
    dimension decoration such as `[1:2]=` is skipped."""
    text = text.strip(_SPACE)
    if text.startswith("["):
        text = text[text.index("=") + 1:].lstrip(_SPACE)
    pos = 0

    def level() -> list:
        nonlocal pos
        if text[pos] != "{":
            raise ValueError(f'malformed array literal: "{text}"')
        pos += 1
        items: list = ArrayParam()
        while True:
            while text[pos] in _SPACE:
                pos += 1
            if text[pos] == "}" and not items:
                pos += 1
                return items
            if text[pos] == "{":
                items.append(level())
            else:
                items.append(element())
            while text[pos] in _SPACE:
                pos += 1
            sep = text[pos]
            pos += 1
            if sep == "}":
                return items
            if sep != ",":
                raise ValueError(f'malformed array literal: "{text}"')

    def element() -> Any:
        nonlocal pos
        chars, quoted, in_quotes = [], False, False
        while in_quotes or text[pos] not in ",}":
            c = text[pos]
            pos += 1
            if c == "\\":
                chars.append(text[pos])
                pos += 1
            elif c == '"':
                in_quotes, quoted = not in_quotes, True
            elif quoted and not in_quotes and c in _SPACE:
                continue
            else:
                chars.append(c)
        item = "".join(chars) if quoted else "".join(chars).rstrip(_SPACE)
        if not quoted and item.upper() == "NULL":
            return None
        return item if elem.name == "varchar" else _parse_text(elem, item)

    try:
        out = level()
    except IndexError:
        raise ValueError(f'malformed array literal: "{text}"') from None
    if text[pos:].strip():
        raise ValueError(f'malformed array literal: "{text}"')
    return out


def array_from_binary(b: bytes) -> list:
    ndim, _flags, elem_oid = struct.unpack("!iii", b[:12])
    elem = OID_TYPES.get(elem_oid)
    if elem is None:
        raise DataError(f"binary format for type oid {elem_oid} is not supported", "0A000")
    dims = [struct.unpack("!ii", b[12 + 8 * i:20 + 8 * i])[0] for i in range(ndim)]
    pos = 12 + 8 * ndim
    flat: list[Any] = []
    for _ in range(math.prod(dims) if dims else 0):
        (n,) = struct.unpack("!i", b[pos:pos + 4])
        pos += 4
        item = b[pos:pos + n]
        flat.append(None if n < 0 else struct.unpack("!I", item)[0] if elem_oid == 26
                    else _from_binary(elem, item))
        pos += max(n, 0)
    for d in reversed(dims[1:]):
        flat = [ArrayParam(flat[i:i + d]) for i in range(0, len(flat), d)]
    return ArrayParam(flat)


def decode_param(oid: int, fmt: int, raw: bytes | None) -> Any:
    """A Bind parameter as a Python value of its declared type (text for unknown); an
    array parameter becomes a list."""
    if raw is None:
        return None
    t = OID_TYPES.get(oid)
    try:
        if oid in ARRAY_ELEMENTS:
            return (array_from_binary(raw) if fmt == 1
                    else parse_array(raw.decode("utf-8"), ARRAY_ELEMENTS[oid]))
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
