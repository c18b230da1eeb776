"""An order-independent checksum of a multiset of rows.

Each row is rendered as text in one canonical form (numbers without trailing
zeros, times with microseconds) and hashed; the hashes are summed modulo 2^64,
so the order of rows does not matter and duplicates count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any, Iterable

MASK = (1 << 64) - 1


def render(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
        d = Decimal(repr(value)) if isinstance(value, float) else value
        if d == d.to_integral_value():
            return str(int(d))
        return format(d.normalize(), "f")
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"
    return str(value)


def row_text(row: Iterable[Any]) -> str:
    return "|".join(render(v) for v in row)


def checksum(rows: Iterable[Iterable[Any]]) -> str:
    """16 hex digits; equal for equal multisets of rows."""
    total = 0
    for row in rows:
        h = hashlib.blake2b(row_text(row).encode(), digest_size=8).digest()
        total += int.from_bytes(h, "little")
    return f"{total & MASK:016x}"
