"""SQL data types: the names users see, their Python values, and their mapping to
DuckDB (serving store), Arrow (the columnar hand-off) and PostgreSQL (wire OIDs).

Python value per type: smallint/int/bigint -> int, real/double -> float,
numeric -> decimal.Decimal, boolean -> bool, varchar -> str, date ->
datetime.date, time -> datetime.time, timestamp -> naive datetime.datetime,
timestamptz -> aware datetime.datetime (UTC), interval -> Interval.
NULL is None for every type.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import struct
from dataclasses import dataclass
from typing import Any

from planner.interval import (  # noqa: F401 - re-exported as planner.types names
    _I32,
    _I64,
    _IV_UNITS,
    Interval,
    _days_in_month,
    add_interval,
    format_interval,
    parse_interval,
)
from planner.nan import NAN, NUMERIC_NAN


@dataclass(frozen=True, slots=True)
class DataType:
    """A SQL type. `name` is the PostgreSQL spelling shown to users."""

    name: str
    duckdb: str
    pg_oid: int
    pg_len: int = -1
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.name == "numeric" and self.precision is not None:
            return f"numeric({self.precision},{self.scale or 0})"
        return self.name

    @property
    def is_integer(self) -> bool:
        return self.name in ("smallint", "integer", "bigint")

    @property
    def is_float(self) -> bool:
        return self.name in ("real", "double precision")

    @property
    def is_numeric(self) -> bool:
        return self.is_integer or self.is_float or self.name == "numeric"

    @property
    def is_temporal(self) -> bool:
        return self.name in ("date", "time", "timestamp", "timestamptz", "interval")

    @property
    def is_string(self) -> bool:
        return self.name == "varchar"


INT16 = DataType("smallint", "SMALLINT", 21, 2)
INT32 = DataType("integer", "INTEGER", 23, 4)
INT64 = DataType("bigint", "BIGINT", 20, 8)
FLOAT32 = DataType("real", "FLOAT", 700, 4)
FLOAT64 = DataType("double precision", "DOUBLE", 701, 8)
DECIMAL = DataType("numeric", "DECIMAL(38,10)", 1700)
BOOLEAN = DataType("boolean", "BOOLEAN", 16, 1)
VARCHAR = DataType("varchar", "VARCHAR", 1043)
DATE = DataType("date", "DATE", 1082, 4)
TIME = DataType("time", "TIME", 1083, 8)
TIMESTAMP = DataType("timestamp", "TIMESTAMP", 1114, 8)
TIMESTAMPTZ = DataType("timestamptz", "TIMESTAMPTZ", 1184, 8)
INTERVAL = DataType("interval", "INTERVAL", 1186, 16)
BYTEA = DataType("bytea", "BLOB", 17)
# The type of an untyped NULL literal; it unifies with anything.
UNKNOWN = DataType("unknown", "VARCHAR", 705)

ALL_TYPES = (INT16, INT32, INT64, FLOAT32, FLOAT64, DECIMAL, BOOLEAN, VARCHAR, DATE,
             TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL, BYTEA)

# PostgreSQL's array type (`integer[]` is `_int4`, OID 1007) by the OID of its element
# type; a column of lists of a type listed here is announced as that array type.
ARRAY_OIDS = {16: 1000, 17: 1001, 20: 1016, 21: 1005, 23: 1007, 25: 1009, 114: 199,
              700: 1021, 701: 1022, 1043: 1015, 1082: 1182, 1083: 1183, 1114: 1115,
              1184: 1185, 1186: 1187, 1700: 1231, 3802: 3807}


def array_of(element: DataType, ndim: int = 1) -> DataType | None:
    """The type of lists (nested `ndim` deep) of `element`, None when PostgreSQL has no
    array of it. Named as PostgreSQL names it, whatever the dimensions: `integer[]`."""
    oid = ARRAY_OIDS.get(element.pg_oid)
    if oid is None:
        return None
    return DataType(f"{element.name}[]", element.duckdb + "[]" * ndim, oid)


_NUMERIC_RANK = {"smallint": 1, "integer": 2, "bigint": 3, "numeric": 4, "real": 5,
                 "double precision": 6}

# Spellings accepted in DDL and CAST, mapped to the canonical type.
_ALIASES = {
    "smallint": INT16, "int2": INT16,
    "int": INT32, "integer": INT32, "int4": INT32, "serial": INT32,
    "bigint": INT64, "int8": INT64, "bigserial": INT64,
    "real": FLOAT32, "float4": FLOAT32, "float": FLOAT64,
    "double": FLOAT64, "double precision": FLOAT64, "float8": FLOAT64,
    "numeric": DECIMAL, "decimal": DECIMAL,
    "boolean": BOOLEAN, "bool": BOOLEAN,
    "varchar": VARCHAR, "text": VARCHAR, "char": VARCHAR, "character varying": VARCHAR,
    "character": VARCHAR, "string": VARCHAR, "bpchar": VARCHAR, "name": VARCHAR,
    "date": DATE,
    "time": TIME, "time without time zone": TIME,
    "timestamp": TIMESTAMP, "timestamp without time zone": TIMESTAMP, "datetime": TIMESTAMP,
    "timestamptz": TIMESTAMPTZ, "timestamp with time zone": TIMESTAMPTZ,
    "interval": INTERVAL,
    "bytea": BYTEA, "blob": BYTEA,
}


def type_from_name(name: str) -> DataType | None:
    """The canonical type for a spelling such as 'int4' or 'timestamp with time zone'."""
    return _ALIASES.get(re.sub(r"\s+", " ", name.strip().lower()))


def numeric(precision: int | None, scale: int | None) -> DataType:
    if precision is None:
        return DECIMAL
    scale = scale or 0
    return DataType("numeric", f"DECIMAL({min(precision, 38)},{min(scale, 38)})", 1700,
                    precision=precision, scale=scale)


def common_supertype(a: DataType, b: DataType) -> DataType | None:
    """The type both sides are converted to in comparisons, CASE, UNION, COALESCE."""
    if a == b:
        return a
    if a is UNKNOWN or a.name == "unknown":
        return b
    if b is UNKNOWN or b.name == "unknown":
        return a
    if a.name == b.name:
        return a if a.name != "numeric" else DECIMAL
    ra, rb = _NUMERIC_RANK.get(a.name), _NUMERIC_RANK.get(b.name)
    if ra is not None and rb is not None:
        if {a.name, b.name} == {"numeric", "real"}:
            return FLOAT64
        return a if ra >= rb else b
    pair = {a.name, b.name}
    if pair == {"timestamp", "timestamptz"}:
        return TIMESTAMPTZ
    if pair == {"date", "timestamp"}:
        return TIMESTAMP
    if pair == {"date", "timestamptz"}:
        return TIMESTAMPTZ
    if "varchar" in pair:
        # A string literal compared with another type takes that type (PostgreSQL's
        # 'unknown' literal rule); binder decides whether the string is a literal.
        return a if b.name == "varchar" else b
    return None


# ---------------------------------------------------------------- value coercion

def to_real(value: float) -> float:
    """A float rounded to single precision, as a cast to real gives it; out of range
    is an overflow."""
    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        raise OverflowError("value out of range: overflow") from None


def coerce(value: Any, t: DataType) -> Any:
    """Convert a Python value (from DML, a parameter or a source) to the type's
    representation. Raises ValueError/OverflowError with a PostgreSQL-style message."""
    if value is None:
        return None
    name = t.name
    if name in ("smallint", "integer", "bigint"):
        if isinstance(value, bool):
            raise ValueError(f"invalid input syntax for type {name}: \"{value}\"")
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise ValueError(f"invalid input syntax for type {name}: \"{value}\"") from None
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"{name} out of range")
            value = int(round(value))
        elif isinstance(value, decimal.Decimal):
            value = int(value.to_integral_value(rounding=decimal.ROUND_HALF_UP))
        elif not isinstance(value, int):
            raise ValueError(f"cannot cast {type(value).__name__} to {name}")
        bits = {"smallint": 15, "integer": 31, "bigint": 63}[name]
        if not -(1 << bits) <= value < (1 << bits):
            raise OverflowError(f"{name} out of range")
        return value
    if name in ("real", "double precision"):
        if isinstance(value, bool):
            raise ValueError(f"cannot cast boolean to {name}")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError(f"invalid input syntax for type {name}: \"{value}\"") from None
        else:
            value = float(value)
        return NAN if value != value else value  # SQL's NaN: see planner/nan.py
    if name == "numeric":
        if isinstance(value, bool):
            raise ValueError("cannot cast boolean to numeric")
        if isinstance(value, float):
            value = decimal.Decimal(repr(value))
        elif isinstance(value, str):
            try:
                value = decimal.Decimal(value.strip())
            except decimal.InvalidOperation:
                raise ValueError(f"invalid input syntax for type numeric: \"{value}\"") from None
        else:
            value = decimal.Decimal(value)
        if value.is_nan():  # a signaling NaN ('sNaN') is not numeric input
            if value.is_snan():
                raise ValueError(f"invalid input syntax for type numeric: \"{value}\"")
            return NUMERIC_NAN
        if t.scale is not None:
            value = value.quantize(decimal.Decimal(1).scaleb(-t.scale),
                                   rounding=decimal.ROUND_HALF_UP)
            if t.precision is not None and value.adjusted() >= t.precision - t.scale:
                raise OverflowError("numeric field overflow")
        return value
    if name == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str):
            v = value.strip().lower()
            if v in ("t", "true", "yes", "y", "on", "1"):
                return True
            if v in ("f", "false", "no", "n", "off", "0"):
                return False
        raise ValueError(f"invalid input syntax for type boolean: \"{value}\"")
    if name == "varchar":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        return to_text(value)
    if name == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()[:10])
            except ValueError:
                raise ValueError(f"invalid input syntax for type date: \"{value}\"") from None
        raise ValueError(f"cannot cast {type(value).__name__} to date")
    if name == "time":
        if isinstance(value, dt.time):
            return value
        if isinstance(value, dt.datetime):
            return value.time()
        if isinstance(value, str):
            try:
                return dt.time.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"invalid input syntax for type time: \"{value}\"") from None
        raise ValueError(f"cannot cast {type(value).__name__} to time")
    if name in ("timestamp", "timestamptz"):
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip().replace(" UTC", "+00:00"))
            except ValueError:
                raise ValueError(
                    f"invalid input syntax for type {name}: \"{value}\"") from None
        elif isinstance(value, dt.datetime):
            pass
        elif isinstance(value, dt.date):
            value = dt.datetime(value.year, value.month, value.day)
        else:
            raise ValueError(f"cannot cast {type(value).__name__} to {name}")
        if name == "timestamp":
            if value.tzinfo is not None:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    if name == "interval":
        if isinstance(value, Interval):
            return value
        if isinstance(value, dt.timedelta):
            return Interval(0, value.days, value.seconds * 1_000_000 + value.microseconds)
        if isinstance(value, str):
            return parse_interval(value)
        raise ValueError(f"cannot cast {type(value).__name__} to interval")
    if name == "bytea":
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, str):
            if value.startswith("\\x"):
                return bytes.fromhex(value[2:])
            return value.encode()
        raise ValueError(f"cannot cast {type(value).__name__} to bytea")
    return value


def _trim_fraction(text: str, micros: int) -> str:
    """PostgreSQL prints fractional seconds without trailing zeros ('00:00:00.25')."""
    if not micros:
        return text
    head, _dot, rest = text.partition(".")
    return head + "." + rest[:6].rstrip("0") + rest[6:]


def to_text(value: Any) -> str:
    """PostgreSQL's text output for a value (used by casts to varchar and by printing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        text = repr(value)
        if text.endswith(".0"):
            text = text[:-2]
        return text
    if isinstance(value, dt.datetime):
        text = _trim_fraction(value.isoformat(sep=" "), value.microsecond)
        if value.tzinfo is not None:
            text = text.replace("+00:00", "+00")
        return text
    if isinstance(value, dt.time):
        return _trim_fraction(value.isoformat(), value.microsecond)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Interval):
        return format_interval(value)
    if isinstance(value, dt.timedelta):
        return format_interval(Interval(0, value.days, value.seconds * 1_000_000
                                        + value.microseconds))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def coercer(t: DataType) -> Any:
    """A function converting one value to `t`, with a fast path for values that
    already have the right Python type (the common case for bulk inserts)."""
    name = t.name
    if name in ("smallint", "integer", "bigint"):
        bits = {"smallint": 15, "integer": 31, "bigint": 63}[name]
        lo, hi = -(1 << bits), 1 << bits

        def to_int(v: Any) -> Any:
            if type(v) is int and lo <= v < hi:
                return v
            return coerce(v, t)
        return to_int
    if name in ("double precision", "real"):
        def to_float(v: Any) -> Any:
            if type(v) is float and v == v or v is None:  # a NaN becomes planner.nan.NAN
                return v
            return coerce(v, t)
        return to_float
    fast = {"varchar": str, "boolean": bool,
            "date": dt.date}.get(name)
    if fast is not None:
        def to_fast(v: Any) -> Any:
            if type(v) is fast or v is None:
                return v
            return coerce(v, t)
        return to_fast
    return lambda v: coerce(v, t)
