"""Integer, numeric, string, bytea and regular-expression functions with
PostgreSQL's results (gcd, div, width_bucket, to_hex, translate, quote_ident,
encode/decode, sha256, regexp_replace, ...)."""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

from planner.errors import DataError
from planner.expressions.builtins_regex import compiled

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
        raise DataError(f"requested character too large for encoding: {n}", "54000")
    return chr(n)


def bit_length(s: str) -> int:
    return len(s.encode()) * 8


def octet_length(s: str | bytes) -> int:
    return len(s) if isinstance(s, (bytes, bytearray, memoryview)) else len(s.encode())


def translate(s: str, frm: str, to: str) -> str:
    """Each character of `frm` in `s` becomes the one at the same place in `to`, or
    is removed when `to` is shorter; the first occurrence in `frm` wins."""
    table: dict[int, int | None] = {}
    for i, c in enumerate(frm):
        if ord(c) not in table:
            table[ord(c)] = ord(to[i]) if i < len(to) else None
    return s.translate(table)


_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")
_KEYWORDS = frozenset(["all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select", "session_user", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where", "window", "with"])


def quote_ident(s: str) -> str:
    if _PLAIN_IDENT.match(s) and s not in _KEYWORDS:
        return s
    return '"' + s.replace('"', '""') + '"'


def quote_literal(s: str) -> str:
    body = s.replace("'", "''")
    if "\\" in s:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"




def quote_nullable(s: str | None) -> str:
    return "NULL" if s is None else quote_literal(s)


# ---------------------------------------------------------------- numeric
def div(a: Any, b: Any) -> decimal.Decimal:
    """The integer quotient of a / b, truncated toward zero (PostgreSQL's div)."""
    if b == 0:
        raise DataError("division by zero", "22012")
    q = decimal.Decimal(a) / decimal.Decimal(b)
    return q.to_integral_value(rounding=decimal.ROUND_DOWN) + 0


def factorial(n: int) -> decimal.Decimal:
    if n < 0:
        raise DataError("factorial of a negative number is undefined", "2201E")
    if n > 32177:
        raise DataError("value overflows numeric format", "22003")
    return decimal.Decimal(math.factorial(n))


def width_bucket(x: float, low: float, high: float, count: int) -> int:
    """The bucket of x among `count` equal buckets from low to high (0 below, count + 1
    at or above the end; high < low counts downwards)."""
    if count <= 0:
        raise DataError("count must be greater than zero", "2201G")
    if math.isnan(x) or math.isnan(low) or math.isnan(high):
        raise DataError("operand, lower bound, and upper bound cannot be NaN", "2201G")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise DataError("lower and upper bounds must be finite", "2201G")
    if low == high:
        raise DataError("lower bound cannot equal upper bound", "2201G")
    if low < high:
        if x < low:
            return 0
        if x >= high:
            return count + 1
        return int((x - low) / (high - low) * count) + 1
    if x > low:
        return 0
    if x <= high:
        return count + 1
    return int((low - x) / (low - high) * count) + 1


# ---------------------------------------------------------------- bytea
def encode(data: bytes, fmt: str) -> str:
    f = fmt.lower()
    if f == "hex":
        return bytes(data).hex()
    if f == "base64":
        text = base64.b64encode(bytes(data)).decode()
        return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    if f == "escape":
        out = []
        for b in bytes(data):
            if b == 0x5C:
                out.append("\\\\")
            elif b == 0 or b >= 0x80:
                out.append(f"\\{b:03o}")
            else:
                out.append(chr(b))
        return "".join(out)
    raise DataError(f'unrecognized encoding: "{fmt}"', "22023")


def decode(text: str, fmt: str) -> bytes:
    f = fmt.lower()
    try:
        if f == "hex":
            return bytes.fromhex(text)
        if f == "base64":
            return base64.b64decode("".join(text.split()), validate=True)
    except (ValueError, binascii.Error):
        raise DataError(f"invalid {f} data", "22023") from None
    if f == "escape":
        return _unescape(text)
    raise DataError(f'unrecognized encoding: "{fmt}"', "22023")


def _unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
        elif text[i + 1:i + 2] == "\\":
            out.append(0x5C)
            i += 2
        elif re.match(r"[0-3][0-7]{2}", text[i + 1:i + 4]):
            out.append(int(text[i + 1:i + 4], 8))
            i += 4
        else:
            raise DataError("invalid input syntax for type bytea", "22P02")
    return bytes(out)


def sha224(data: bytes) -> bytes:
    return hashlib.sha224(bytes(data)).digest()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(bytes(data)).digest()


def sha384(data: bytes) -> bytes:
    return hashlib.sha384(bytes(data)).digest()


def sha512(data: bytes) -> bytes:
    return hashlib.sha512(bytes(data)).digest()


# ---------------------------------------------------------------- regular expressions
def regexp_replace(s: str, pattern: str, repl: str, *rest: Any) -> str:
    """PostgreSQL's regexp_replace(source, pattern, replacement [, start [, N]] [, flags]):
    from character `start` on, the N-th match replaced (N = 0: every one); without N the
    first (every one with flag g); flag i ignores case. In the replacement \\1..\\9 are
    groups and \\& the whole match."""
    args = list(rest)
    flags = args.pop() if args and isinstance(args[-1], str) else ""
    start = args.pop(0) if args else 1
    n = args.pop(0) if args else None
    bad = set(flags) - set("gi")
    if bad:
        raise DataError(f'invalid regular expression option: "{min(bad)}"', "22023")
    if start is None or start < 1:
        raise DataError(f'invalid value for parameter "start": {start}', "22023")
    if n is not None and n < 0:
        raise DataError(f'invalid value for parameter "n": {n}', "22023")
    rx = compiled(("(?i)" if "i" in flags else "") + pattern)
    head, tail = s[:start - 1], s[start - 1:]
    if n is None:
        return head + rx.sub(_replacement(rx, repl), tail, count=0 if "g" in flags else 1)
    if n == 0:
        return head + rx.sub(_replacement(rx, repl), tail)
    for i, m in enumerate(rx.finditer(tail), 1):
        if i == n:
            return head + tail[:m.start()] + _replacement(rx, repl)(m) + tail[m.end():]
    return s


def _replacement(rx: re.Pattern[str], repl: str) -> Callable[[re.Match[str]], str]:
    def sub(m: re.Match[str]) -> str:
        out, i = [], 0
        while i < len(repl):
            c = repl[i]
            if c == "\\" and i + 1 < len(repl):
                n = repl[i + 1]
                if n.isdigit() and n != "0":
                    out.append(m.group(int(n)) or "" if int(n) <= rx.groups else "")
                elif n == "&":
                    out.append(m.group(0))
                else:
                    out.append(n)
                i += 2
                continue
            out.append(c)
            i += 1
        return "".join(out)
    return sub


def regexp_count(s: str, pattern: str) -> int:
    return sum(1 for _ in compiled(pattern).finditer(s))


# ---------------------------------------------------------------- format
_FORMAT_SPEC = re.compile(r"%(?:(\d+)\$)?(-)?(\d+|\*)?(.?)")


def format_(fmt: str | None, *args: Any) -> str | None:
    """PostgreSQL's format(): %s (text, NULL as empty), %I (an identifier), %L (a
    literal, NULL as NULL) and %%, with an optional argument position `n$`, the `-`
    flag and a width (a number or `*`)."""
    if fmt is None:
        return None
    from planner.expressions.builtins_text import as_text
    out: list[str] = []
    pos = 0
    nxt = 0  # the next argument used without an explicit position
    for m in _FORMAT_SPEC.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        index, left, width, kind = m.groups()
        if kind == "%" and not (index or left or width):
            out.append("%")
            continue
        if kind not in ("s", "I", "L"):
            if not kind:
                raise DataError("unterminated format() type specifier", "22023")
            raise DataError(f'unrecognized format() type specifier "{kind}"', "22023")
        size = None
        if width == "*":
            if nxt >= len(args):
                raise DataError("too few arguments for format()", "22023")
            size, nxt = args[nxt], nxt + 1
            size = 0 if size is None else int(size)
        elif width:
            size = int(width)
        if index:
            nxt = int(index) - 1
            if nxt < 0:
                raise DataError("format specifies argument 0, but arguments are numbered "
                                "from 1", "22023")
        if nxt >= len(args):
            raise DataError("too few arguments for format()", "22023")
        value, nxt = args[nxt], nxt + 1
        if kind == "s":
            text = "" if value is None else as_text(value)
        elif kind == "I":
            if value is None:
                raise DataError("null values cannot be formatted as an SQL identifier", "22004")
            text = quote_ident(as_text(value))
        else:
            text = "NULL" if value is None else quote_literal(as_text(value))
        if size is not None:
            if size < 0:
                left, size = "-", -size
            text = text.ljust(size) if left else text.rjust(size)
        out.append(text)
    out.append(fmt[pos:])
    return "".join(out)
