"""Date/time functions: extract/date_part (numeric results, as PostgreSQL 14+) and
date_trunc."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from planner.errors import INVALID_PARAMETER, DataError
from planner.types import Interval

D = decimal.Decimal
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_DATE = dt.date(1970, 1, 1)

_UNIT_ALIASES = {
    "years": "year", "y": "year", "yr": "year", "yrs": "year",
    "months": "month", "mon": "month", "mons": "month",
    "days": "day", "d": "day", "hours": "hour", "h": "hour", "hr": "hour", "hrs": "hour",
    "minutes": "minute", "min": "minute", "mins": "minute", "m": "minute",
    "seconds": "second", "sec": "second", "secs": "second", "s": "second",
    "milliseconds": "millisecond", "ms": "millisecond", "msec": "millisecond",
    "microseconds": "microsecond", "us": "microsecond", "usec": "microsecond",
    "weeks": "week", "w": "week", "quarters": "quarter", "qtr": "quarter",
    "decades": "decade", "centuries": "century", "millenniums": "millennium",
    "millennia": "millennium", "dayofweek": "dow", "dayofyear": "doy",
    "epoch_second": "epoch",
}

EXTRACT_FIELDS = ("century", "day", "decade", "dow", "doy", "epoch", "hour", "isodow",
                  "isoyear", "microsecond", "millennium", "millisecond", "minute", "month",
                  "quarter", "second", "week", "year")
TRUNC_UNITS = ("microsecond", "millisecond", "second", "minute", "hour", "day", "week",
               "month", "quarter", "year", "decade", "century", "millennium")


def normalize_unit(name: str) -> str:
    u = name.strip().lower()
    return _UNIT_ALIASES.get(u, u)


def _bad_unit(unit: str) -> DataError:
    return DataError(f'unit "{unit}" not recognized', INVALID_PARAMETER)


def _sec_micros(v: Any) -> int:
    return v.second * 1_000_000 + v.microsecond


def extract(field: str, v: Any) -> D:
    """extract(field FROM v) for date, time, timestamp[tz] and interval values."""
    if isinstance(v, Interval):
        return _extract_interval(field, v)
    if isinstance(v, dt.time):
        return _extract_clock(field, v)
    if not isinstance(v, dt.datetime):
        if field == "epoch":
            return D((v - _EPOCH_DATE).days * 86400)
        v = dt.datetime(v.year, v.month, v.day)
    if field == "epoch":
        naive = v.astimezone(dt.timezone.utc).replace(tzinfo=None) if v.tzinfo else v
        delta = naive - _EPOCH
        micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return D(micros).scaleb(-6)
    if field == "year":
        return D(v.year)
    if field == "quarter":
        return D((v.month - 1) // 3 + 1)
    if field == "month":
        return D(v.month)
    if field == "day":
        return D(v.day)
    if field == "week":
        return D(v.isocalendar()[1])
    if field == "isoyear":
        return D(v.isocalendar()[0])
    if field == "dow":
        return D(v.isoweekday() % 7)
    if field == "isodow":
        return D(v.isoweekday())
    if field == "doy":
        return D(v.timetuple().tm_yday)
    if field == "decade":
        return D(v.year // 10)
    if field == "century":
        return D((v.year + 99) // 100)
    if field == "millennium":
        return D((v.year + 999) // 1000)
    return _extract_clock(field, v)


def _extract_clock(field: str, v: Any) -> D:
    if field == "hour":
        return D(v.hour)
    if field == "minute":
        return D(v.minute)
    if field == "second":
        return D(_sec_micros(v)).scaleb(-6)
    if field == "millisecond":
        return D(_sec_micros(v)).scaleb(-3)
    if field == "microsecond":
        return D(_sec_micros(v))
    if field == "epoch" and isinstance(v, dt.time):
        return D((v.hour * 3600 + v.minute * 60) * 1_000_000 + _sec_micros(v)).scaleb(-6)
    raise _bad_unit(field)


def _extract_interval(field: str, v: Interval) -> D:
    if field == "epoch":
        years, months = int(v.months / 12), v.months - int(v.months / 12) * 12
        secs = D(years) * D("31557600") + D(months * 30 + v.days) * 86400
        return secs + D(v.micros).scaleb(-6)
    if field == "year":
        return D(int(v.months / 12))
    if field == "month":
        return D(v.months - int(v.months / 12) * 12)
    if field == "day":
        return D(v.days)
    sign = -1 if v.micros < 0 else 1
    m = abs(v.micros)
    if field == "hour":
        return D(sign * (m // 3_600_000_000))
    if field == "minute":
        return D(sign * (m // 60_000_000 % 60))
    if field == "second":
        return D(sign * (m % 60_000_000)).scaleb(-6)
    if field == "millisecond":
        return D(sign * (m % 60_000_000)).scaleb(-3)
    if field == "microsecond":
        return D(sign * (m % 60_000_000))
    raise _bad_unit(field)


def date_trunc(unit: str, v: Any) -> Any:
    """Truncate a timestamp (or timestamptz) to the start of its `unit`."""
    if unit == "microsecond":
        return v
    if unit == "millisecond":
        return v.replace(microsecond=v.microsecond // 1000 * 1000)
    if unit == "second":
        return v.replace(microsecond=0)
    if unit == "minute":
        return v.replace(second=0, microsecond=0)
    if unit == "hour":
        return v.replace(minute=0, second=0, microsecond=0)
    day = v.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    if unit == "decade":
        return day.replace(year=day.year // 10 * 10, month=1, day=1)
    if unit == "century":
        return day.replace(year=(day.year - 1) // 100 * 100 + 1, month=1, day=1)
    if unit == "millennium":
        return day.replace(year=(day.year - 1) // 1000 * 1000 + 1, month=1, day=1)
    raise _bad_unit(unit)


def proctime() -> dt.datetime:
    """Processing time: now, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def make_date(year: int, month: int, day: int) -> dt.date:
    """make_date(y, m, d); a day past the month's end is an error, as in PostgreSQL.
    Years BC (negative) are beyond what a streaming date column holds."""
    if year == 0:
        raise DataError(f"date field value out of range: {year}-{month:02d}-{day:02d}",
                        "22008")
    try:
        return dt.date(year, month, day)
    except (ValueError, OverflowError):
        raise DataError(f"date field value out of range: {year}-{month:02d}-{day:02d}",
                        "22008") from None
