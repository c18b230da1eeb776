"""Integer and string functions with PostgreSQL's results: gcd, lcm, to_hex,
ascii, chr, bit_length, octet_length, translate, quote_ident, quote_literal."""

from __future__ import annotations

import math
import re

from planner.errors import DataError

_INT_BITS = {"smallint": 16, "integer": 32, "bigint": 64}


def gcd(a: int, b: int) -> int:
    return math.gcd(a, b)


def lcm(a: int, b: int) -> int:
    return abs(a * b) // math.gcd(a, b) if a and b else 0


def to_hex(x: int) -> str:
    """Lower-case hexadecimal; a negative value is shown as its two's complement in
    32 bits, or 64 when it does not fit (PostgreSQL's int4 / int8 forms)."""
    if x < 0:
        x += 1 << (32 if x >= -(1 << 31) else 64)
    return format(x, "x")


def ascii(s: str) -> int:
    return ord(s[0]) if s else 0


def chr_(n: int) -> str:
    if n == 0:
        raise DataError("null character not permitted", "54000")
    if n < 0 or n > 0x10FFFF or 0xD800 <= n <= 0xDFFF:
        raise DataError("requested character too large for encoding: %d" % n, "54000")
    return chr(n)


def bit_length(s: str) -> int:
    return len(s.encode()) * 8


def octet_length(s: str) -> int:
    return len(s.encode())


def translate(s: str, frm: str, to: str) -> str:
    """Each character of `frm` in `s` becomes the one at the same place in `to`, or
    is removed when `to` is shorter; the first occurrence in `frm` wins."""
    table: dict[int, int | None] = {}
    for i, c in enumerate(frm):
        if ord(c) not in table:
            table[ord(c)] = ord(to[i]) if i < len(to) else None
    return s.translate(table)


_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")
_KEYWORDS = frozenset("""all analyse analyze and any array as asc asymmetric both case cast
    check collate column constraint create current_catalog current_date current_role
    current_time current_timestamp current_user default deferrable desc distinct do else
    end except false fetch for foreign from grant group having in initially intersect
    into lateral leading limit localtime localtimestamp not null offset on only or order
    placing primary references returning select session_user some symmetric table then to
    trailing true union unique user using variadic when where window with""".split())


def quote_ident(s: str) -> str:
    if _PLAIN_IDENT.match(s) and s not in _KEYWORDS:
        return s
    return '"' + s.replace('"', '""') + '"'


def quote_literal(s: str) -> str:
    body = s.replace("'", "''")
    if "\\" in s:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


__all__ = ["gcd", "lcm", "to_hex", "ascii", "chr_", "bit_length", "octet_length", "translate",
           "quote_ident", "quote_literal"]
