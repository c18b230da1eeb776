"""The PostgreSQL interval value type (planner.types re-exports these names): the
Interval value, calendar-aware addition to dates and timestamps, and its text
formatting and parsing."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass
from typing import Any

_I32, _I64 = 1 << 31, 1 << 63


@dataclass(frozen=True, slots=True, eq=False)
class Interval:
    """A PostgreSQL interval: months, days and microseconds kept apart, as PostgreSQL does,
    so that '1 month' added to a timestamp moves by a calendar month. Equality, hashing
    and order go by the normalized length, as in PostgreSQL ('1 day' = '24 hours'), so
    grouping, DISTINCT, joins, min/max and ORDER BY agree with comparisons."""

    months: int = 0
    days: int = 0
    micros: int = 0

    def __post_init__(self) -> None:
        # PostgreSQL's (and Arrow's month_day_nano) limits: 32-bit months and days.
        if not (-_I32 <= self.months < _I32 and -_I32 <= self.days < _I32
                and -_I64 <= self.micros < _I64):
            raise OverflowError("interval out of range")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Interval):
            return self.total_micros() == other.total_micros()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.total_micros())

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.total_micros() < other.total_micros()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.total_micros() <= other.total_micros()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.total_micros() > other.total_micros()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.total_micros() >= other.total_micros()

    def __add__(self, other: object) -> Any:
        if isinstance(other, Interval):
            return Interval(self.months + other.months, self.days + other.days,
                            self.micros + other.micros)
        if isinstance(other, (dt.datetime, dt.date)):
            return add_interval(other, self)
        return NotImplemented

    __radd__ = __add__

    def __neg__(self) -> Interval:
        return Interval(-self.months, -self.days, -self.micros)

    def __sub__(self, other: object) -> Interval:
        if isinstance(other, Interval):
            return self + (-other)
        return NotImplemented

    def __mul__(self, k: object) -> Interval:
        if isinstance(k, bool) or not isinstance(k, (int, float, decimal.Decimal)):
            return NotImplemented
        if isinstance(k, int):
            return Interval(self.months * k, self.days * k, self.micros * k)
        f = float(k)
        months = self.months * f
        whole_months = int(months)
        days = self.days * f + (months - whole_months) * 30
        whole_days = int(days)
        micros = self.micros * f + (days - whole_days) * 86_400_000_000
        return Interval(whole_months, whole_days, round(micros))

    __rmul__ = __mul__

    def total_micros(self) -> int:
        """Length with PostgreSQL's conventions for comparison (month = 30 days)."""
        return (self.months * 30 + self.days) * 86_400_000_000 + self.micros

    def to_timedelta(self) -> dt.timedelta:
        return dt.timedelta(days=self.months * 30 + self.days, microseconds=self.micros)

    def __str__(self) -> str:
        return format_interval(self)


def add_interval(value: dt.date | dt.datetime, iv: Interval) -> dt.datetime | dt.date:
    """value + iv with calendar months (day clamped to the month's end), then days, then
    microseconds, as PostgreSQL computes it."""
    if iv.months:
        total = value.year * 12 + (value.month - 1) + iv.months
        year, month = divmod(total, 12)
        month += 1
        day = min(value.day, _days_in_month(year, month))
        value = value.replace(year=year, month=month, day=day)
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value + dt.timedelta(days=iv.days, microseconds=iv.micros)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days


def format_interval(iv: Interval) -> str:
    """PostgreSQL's `postgres` IntervalStyle: '1 year 2 mons 3 days 04:05:06'; after a
    negative field a positive one carries '+' ('-1 years +2 days')."""
    parts: list[str] = []
    before = False  # the previous field was negative
    years = int(iv.months / 12)
    for value, unit in ((years, "year"), (iv.months - years * 12, "mon"), (iv.days, "day")):
        if value:
            plus = "+" if before and value > 0 else ""
            parts.append(f"{plus}{value} {unit}{'s' if value != 1 else ''}")
            before = value < 0
    if iv.micros or not parts:
        micros = abs(iv.micros)
        secs, frac = divmod(micros, 1_000_000)
        mins, secs = divmod(secs, 60)
        hours, mins = divmod(mins, 60)
        sign = "-" if iv.micros < 0 else "+" if before else ""
        text = f"{sign}{hours:02d}:{mins:02d}:{secs:02d}"
        if frac:
            text += f".{frac:06d}".rstrip("0")
        parts.append(text)
    return " ".join(parts)


_IV_UNITS = {
    "year": (12, 0, 0), "years": (12, 0, 0), "y": (12, 0, 0),
    "month": (1, 0, 0), "months": (1, 0, 0), "mon": (1, 0, 0), "mons": (1, 0, 0),
    "week": (0, 7, 0), "weeks": (0, 7, 0), "w": (0, 7, 0),
    "day": (0, 1, 0), "days": (0, 1, 0), "d": (0, 1, 0),
    "hour": (0, 0, 3_600_000_000), "hours": (0, 0, 3_600_000_000), "h": (0, 0, 3_600_000_000),
    "minute": (0, 0, 60_000_000), "minutes": (0, 0, 60_000_000), "min": (0, 0, 60_000_000),
    "mins": (0, 0, 60_000_000), "m": (0, 0, 60_000_000),
    "second": (0, 0, 1_000_000), "seconds": (0, 0, 1_000_000), "sec": (0, 0, 1_000_000),
    "secs": (0, 0, 1_000_000), "s": (0, 0, 1_000_000),
    "millisecond": (0, 0, 1000), "milliseconds": (0, 0, 1000), "ms": (0, 0, 1000),
    "microsecond": (0, 0, 1), "microseconds": (0, 0, 1), "us": (0, 0, 1),
}


def parse_interval(text: str, unit: str | None = None) -> Interval:
    """Parse '1 day', '2 hours 30 minutes', '01:02:03', '1' with a unit, '3 mons'."""
    s = text.strip().lower()
    if unit:
        s = f"{s} {unit.lower()}"
    months = days = 0
    micros = 0.0
    tokens = re.findall(r"[-+]?\d+(?:\.\d+)?(?::\d+(?::\d+(?:\.\d+)?)?)?|[a-z]+", s)
    i = 0
    if not tokens:
        raise ValueError(f"invalid input syntax for type interval: \"{text}\"")
    while i < len(tokens):
        tok = tokens[i]
        if ":" in tok:
            neg = tok.startswith("-")
            fields = tok.lstrip("+-").split(":")
            h = int(fields[0])
            m = int(fields[1]) if len(fields) > 1 else 0
            sec = float(fields[2]) if len(fields) > 2 else 0.0
            val = (h * 3600 + m * 60 + sec) * 1_000_000
            micros += -val if neg else val
            i += 1
            continue
        try:
            num = float(tok)
        except ValueError:
            raise ValueError(f"invalid input syntax for type interval: \"{text}\"") from None
        u = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].isalpha() else "second"
        if u not in _IV_UNITS:
            raise ValueError(f"invalid input syntax for type interval: \"{text}\"")
        mo, d, us = _IV_UNITS[u]
        if mo:
            whole = int(num * mo)
            months += whole
            days_f = (num * mo - whole) * 30
            days += int(days_f)
            micros += (days_f - int(days_f)) * 86_400_000_000
        elif d:
            whole = int(num * d)
            days += whole
            micros += (num * d - whole) * 86_400_000_000
        else:
            micros += num * us
        i += 2 if i + 1 < len(tokens) and tokens[i + 1].isalpha() else 1
    return Interval(months, days, round(micros))
