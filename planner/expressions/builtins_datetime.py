"""Date/time constructors with PostgreSQL's results: to_timestamp(epoch seconds),
make_date, make_time, make_timestamp; and overlay() on text."""

from __future__ import annotations

import datetime as dt
import math

from planner.errors import DataError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_timestamp(seconds: float) -> dt.datetime:
    """Seconds since 1970-01-01 UTC as timestamptz, rounded to microseconds."""
    if math.isnan(seconds) or math.isinf(seconds):
        raise DataError("timestamp cannot be NaN" if math.isnan(seconds)
                        else "timestamp out of range", "22008")
    try:
        return _EPOCH + dt.timedelta(microseconds=round(seconds * 1_000_000))
    except OverflowError:
        raise DataError(f'timestamp out of range: "{seconds}"', "22008") from None


def make_date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DataError(f"date field value out of range: {year}-{month:02d}-{day:02d}",
                        "22008") from None


def _time_parts(hour: int, minute: int, sec: float) -> tuple[int, int, int, int]:
    if math.isnan(sec) or not (0 <= hour <= 24 and 0 <= minute < 60 and 0 <= sec <= 60):
        raise DataError(f"time field value out of range: {hour}:{minute:02d}:{sec}", "22008")
    micros = round(sec * 1_000_000)
    return hour, minute, micros // 1_000_000, micros % 1_000_000


def make_time(hour: int, minute: int, sec: float) -> dt.time:
    h, m, s, us = _time_parts(hour, minute, sec)
    if h == 24 or s == 60:
        raise DataError(f"time field value out of range: {hour}:{minute:02d}:{sec}", "22008")
    return dt.time(h, m, s, us)


def make_timestamp(year: int, month: int, day: int, hour: int, minute: int,
                   sec: float) -> dt.datetime:
    date = make_date(year, month, day)
    h, m, s, us = _time_parts(hour, minute, sec)
    return dt.datetime.combine(date, dt.time()) + dt.timedelta(hours=h, minutes=m, seconds=s,
                                                               microseconds=us)


def overlay(s: str, new: str, start: int, count: int | None = None) -> str:
    """overlay(s PLACING new FROM start [FOR count]): `count` characters of s from
    `start` (1-based) replaced by `new` (count defaults to the length of new)."""
    n = len(new) if count is None else count
    if start < 1:
        raise DataError("negative substring length not allowed", "22011")
    return s[:start - 1] + new + s[start - 1 + max(n, 0):]


__all__ = ["make_date", "make_time", "make_timestamp", "overlay", "to_timestamp"]
