"""String functions with PostgreSQL's semantics (1-based positions, negative counts)."""

from __future__ import annotations

import hashlib
from typing import Any

from planner.errors import INVALID_PARAMETER, DataError
from planner.types import VARCHAR, coerce


def substr(s: str, start: int, length: int | None = None) -> str:
    begin = start - 1
    if length is None:
        return s[max(begin, 0):]
    if length < 0:
        raise DataError("negative substring length not allowed", "22011")
    return s[max(begin, 0):max(begin + length, 0)]


def strpos(s: str, sub: str) -> int:
    return s.find(sub) + 1


def replace(s: str, old: str, new: str) -> str:
    """replace(s, old, new); an empty `old` leaves s as it is, as in PostgreSQL."""
    return s.replace(old, new) if old else s


def left(s: str, n: int) -> str:
    return s[:n] if n >= 0 else s[:max(len(s) + n, 0)]


def right(s: str, n: int) -> str:
    if n >= 0:
        return s[max(len(s) - n, 0):]
    return s[min(-n, len(s)):]


def repeat(s: str, n: int) -> str:
    return s * n if n > 0 else ""


def split_part(s: str, delim: str, n: int) -> str:
    if n == 0:
        raise DataError("field position must not be zero", INVALID_PARAMETER)
    parts = s.split(delim) if delim else [s]
    if n > 0:
        return parts[n - 1] if n <= len(parts) else ""
    return parts[n] if -n <= len(parts) else ""


def lpad(s: str, n: int, fill: str = " ") -> str:
    if n <= len(s) or not fill:
        return s[:max(n, 0)]
    need = n - len(s)
    return (fill * (need // len(fill) + 1))[:need] + s


def rpad(s: str, n: int, fill: str = " ") -> str:
    if n <= len(s) or not fill:
        return s[:max(n, 0)]
    need = n - len(s)
    return s + (fill * (need // len(fill) + 1))[:need]


def initcap(s: str) -> str:
    """First letter of each alphanumeric run upper-cased, the rest lower-cased."""
    out = []
    prev_alnum = False
    for c in s:
        out.append(c.lower() if prev_alnum else c.upper())
        prev_alnum = c.isalnum()
    return "".join(out)


def btrim(s: str, chars: str = " ") -> str:
    return s.strip(chars)


def ltrim(s: str, chars: str = " ") -> str:
    return s.lstrip(chars)


def rtrim(s: str, chars: str = " ") -> str:
    return s.rstrip(chars)


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def as_text(v: Any) -> str:
    """A value as text the way concat() and || print it (booleans as t/f)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "t" if v else "f"
    return coerce(v, VARCHAR)


def concat(*args: Any) -> str:
    """concat(): NULL arguments are skipped."""
    return "".join(as_text(a) for a in args if a is not None)


def concat_ws(sep: str | None, *args: Any) -> str | None:
    """concat_ws(): NULL when the separator is NULL; NULL arguments are skipped."""
    if sep is None:
        return None
    return sep.join(as_text(a) for a in args if a is not None)

