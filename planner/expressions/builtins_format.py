"""to_char(timestamp, format) with PostgreSQL's template patterns, and the same
pattern as a DuckDB strftime format for batch queries.

Patterns (PostgreSQL's; numeric ones in any case): YYYY YY MM DD DDD HH24 HH12 HH MI
SS MS US, month and day names Month/MONTH/month, Mon/MON/mon, Day/DAY/day,
Dy/DY/dy, AM/PM/am/pm, the FM prefix (no padding), "quoted" literal text. Anything
else is copied as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _hour12(v: dt.datetime) -> int:
    return (v.hour + 11) % 12 + 1


def _cased(word: str, spelled: str) -> str:
    """A month or day name in the case the pattern was spelled in."""
    if spelled.isupper():
        return word.upper()
    if spelled.islower():
        return word.lower()
    return word


# name (upper case) -> (value, zero-padded width, strftime code, strftime code with FM)
_NUMERIC: dict[str, tuple[Callable[[dt.datetime], int], int, str, str]] = {
    "YYYY": (lambda v: v.year, 4, "%Y", "%Y"),
    "DDD": (lambda v: v.timetuple().tm_yday, 3, "%j", "%-j"),
    "HH24": (lambda v: v.hour, 2, "%H", "%-H"),
    "HH12": (_hour12, 2, "%I", "%-I"),
    "YY": (lambda v: v.year % 100, 2, "%y", "%-y"),
    "MM": (lambda v: v.month, 2, "%m", "%-m"),
    "DD": (lambda v: v.day, 2, "%d", "%-d"),
    "HH": (_hour12, 2, "%I", "%-I"),
    "MI": (lambda v: v.minute, 2, "%M", "%-M"),
    "SS": (lambda v: v.second, 2, "%S", "%-S"),
    "MS": (lambda v: v.microsecond // 1000, 3, "%g", ""),
    "US": (lambda v: v.microsecond, 6, "%f", ""),
}
_NAMES = ("MONTH", "MON", "DAY", "DY")
_MERIDIEM = ("AM", "PM")
# Longest first, so HH24 wins over HH and DDD over DD.
_PATTERNS = sorted([*_NUMERIC, *_NAMES, *_MERIDIEM], key=len, reverse=True)

Piece = tuple[str, str, bool]  # (kind: "lit" | pattern name, text as written, FM)


@lru_cache(maxsize=256)
def _parse(fmt: str) -> tuple[Piece, ...]:
    out: list[Piece] = []
    i, n = 0, len(fmt)
    while i < n:
        if fmt[i] == '"':
            j = fmt.find('"', i + 1)
            j = n if j < 0 else j
            out.append(("lit", fmt[i + 1:j], False))
            i = j + 1
            continue
        fm = fmt[i:i + 2].upper() == "FM"
        k = i + 2 if fm else i
        name = next((p for p in _PATTERNS if fmt[k:k + len(p)].upper() == p), None)
        if name is None:
            out.append(("lit", fmt[i], False))
            i += 1
            continue
        out.append((name, fmt[k:k + len(name)], fm))
        i = k + len(name)
    return tuple(out)


def _piece(v: dt.datetime, name: str, spelled: str, fm: bool) -> str:
    if name in _NUMERIC:
        get, width, _c, _f = _NUMERIC[name]
        return str(get(v)) if fm else str(get(v)).zfill(width)
    if name in ("MONTH", "MON"):
        word = _MONTHS[v.month - 1]
    elif name in ("DAY", "DY"):
        word = _DAYS[v.weekday()]
    else:
        word = "AM" if v.hour < 12 else "PM"
        return word if spelled.isupper() else word.lower()
    if name in ("MON", "DY"):
        word = word[:3]
    elif not fm:
        word = word.ljust(9)
    return _cased(word, spelled)


# Patterns that are a datetime attribute, zero-padded to a width (str.format fields).
_ATTRS = {"YYYY": ("year", 4), "MM": ("month", 2), "DD": ("day", 2), "HH24": ("hour", 2),
          "MI": ("minute", 2), "SS": ("second", 2), "US": ("microsecond", 6)}
ISO_DATE = "{0.year:04d}-{0.month:02d}-{0.day:02d}"  # what datetime.date().isoformat() gives


@lru_cache(maxsize=256)
def format_template(fmt: str) -> str | None:
    """A str.format template over a datetime giving to_char's text (one C call per
    value instead of one per pattern), or None when the pattern needs more than the
    datetime's own fields (names, 12-hour clock, milliseconds, day of year).

    >>> format_template('YYYY-MM-DD "at" FMHH24h') == ISO_DATE + ' at {0.hour}h'
    True
    """
    out: list[str] = []
    for name, text, fm in _parse(fmt):
        if name == "lit":
            out.append(text.replace("{", "{{").replace("}", "}}"))
        elif name in _ATTRS:
            attr, width = _ATTRS[name]
            out.append(f"{{0.{attr}}}" if fm else f"{{0.{attr}:0{width}d}}")
        else:
            return None
    return "".join(out)


def to_char(v: dt.datetime | dt.date, fmt: str) -> str:
    """to_char(timestamp, format) as PostgreSQL formats it."""
    if not isinstance(v, dt.datetime):
        v = dt.datetime(v.year, v.month, v.day)
    template = format_template(fmt)
    if template is not None:
        return template.format(v)
    return "".join(text if name == "lit" else _piece(v, name, text, fm)
                   for name, text, fm in _parse(fmt))


def strftime_format(fmt: str) -> str | None:
    """The DuckDB strftime format giving the same text, or None when there is none."""
    out: list[str] = []
    for name, text, fm in _parse(fmt):
        if name == "lit":
            out.append(text.replace("%", "%%"))
        elif name in _NUMERIC:
            code = _NUMERIC[name][3 if fm else 2]
            if not code:
                return None
            out.append(code)
        elif name in ("MON", "DY") and text[0].isupper() and not text.isupper():
            out.append("%b" if name == "MON" else "%a")
        elif name in ("MONTH", "DAY") and fm and text[0].isupper() and not text.isupper():
            out.append("%B" if name == "MONTH" else "%A")
        elif name in _MERIDIEM and text.isupper():
            out.append("%p")
        else:
            return None
    return "".join(out)
