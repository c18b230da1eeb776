"""Plain-Python references: one loop over `bid.csv` with the csv module and dicts.

They answer the same questions as the engine's views (q1, q2, a grouped count),
without an engine, as a yardstick for the benchmark's rates and memory. Each
returns the result rows in the form the checksum reads (`bench.checksum`).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from decimal import Decimal
from typing import Callable

Q2_AUCTIONS = (1007, 1020, 2001, 2019, 2087)


def _bids(folder: str):  # type: ignore[no-untyped-def]
    f = open(os.path.join(folder, "bid.csv"), newline="")
    rows = csv.reader(f)
    next(rows)  # the header
    return f, rows


def q1(folder: str) -> list[tuple]:
    """Currency conversion: price * 0.908 (kept exact as thousandths)."""
    f, rows = _bids(folder)
    out = []
    append = out.append
    with f:
        for r in rows:
            append((int(r[0]), int(r[1]), int(r[2]) * 908, r[5]))
    return out


def q2(folder: str) -> list[tuple]:
    """Selection: the bids of five auctions."""
    f, rows = _bids(folder)
    wanted = {str(a) for a in Q2_AUCTIONS}
    out = []
    append = out.append
    with f:
        for r in rows:
            if r[0] in wanted:
                append((int(r[0]), int(r[2])))
    return out


def count(folder: str) -> list[tuple]:
    """Grouped count: bids per auction."""
    f, rows = _bids(folder)
    counts: dict[int, int] = {}
    get = counts.get
    with f:
        for r in rows:
            k = int(r[0])
            counts[k] = get(k, 0) + 1
    return list(counts.items())


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def q1_rows(rows: list[tuple]) -> list[tuple]:
    """q1's rows with the engine's value types (for the checksum, not timed)."""
    return [(a, b, Decimal(p) / 1000, _time(t)) for a, b, p, t in rows]


REFERENCES: dict[str, Callable[[str], list[tuple]]] = {"q1": q1, "q2": q2, "count": count}
# Turns a reference's result into rows of the engine's value types.
AS_ROWS: dict[str, Callable[[list[tuple]], list[tuple]]] = {"q1": q1_rows}
