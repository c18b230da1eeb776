"""Write Nexmark events as CSV files: `python -m bench.nexmark_gen --events N --out DIR`.

The rows come from the `nexmark` connector's own generator, so the files hold
exactly the events a `nexmark` source with the same options produces. Files are
`person.csv`, `auction.csv`, `bid.csv` with a header of RisingWave's column
names and times as `YYYY-MM-DD HH:MM:SS.mmm`. The default event gap is 1 ms, so
the millisecond text loses nothing and both inputs give the same view contents.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
from typing import Any

from executor.connectors.nexmark import OFFSETS, SCHEMAS, TOTAL_PROPORTION, EventGenerator

# 2015-07-15 00:00:00 UTC, the Nexmark generator's customary base time.
BASE_TIME_US = 1_436_918_400_000_000
EVENT_GAP_NS = 1_000_000
TABLES = ("person", "auction", "bid")


def table_rows(table: str, events: int) -> int:
    """How many rows of `table` the first `events` events hold."""
    offsets = OFFSETS[table]
    full, rest = divmod(events, TOTAL_PROPORTION)
    return full * len(offsets) + sum(1 for o in offsets if o < rest)


def render(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"
    return "" if value is None else str(value)


def write_csv(out: str, events: int, base_us: int = BASE_TIME_US,
              gap_ns: int = EVENT_GAP_NS) -> dict[str, int]:
    """Write the three files for events 0..events-1; returns rows written per table."""
    os.makedirs(out, exist_ok=True)
    counts: dict[str, int] = {}
    for table in TABLES:
        gen = EventGenerator(table, base_us, gap_ns)
        offsets = OFFSETS[table]
        path = os.path.join(out, f"{table}.csv")
        n_rows = 0
        with open(path + ".tmp", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([name for name, _ in SCHEMAS[table]])
            batch: list[list[str]] = []
            for n in range(events):
                if n % TOTAL_PROPORTION in offsets:
                    batch.append([render(v) for v in gen.make(n)])
                    if len(batch) >= 4096:
                        w.writerows(batch)
                        n_rows += len(batch)
                        batch = []
            w.writerows(batch)
            n_rows += len(batch)
        os.replace(path + ".tmp", path)  # a reader never sees a half-written file
        counts[table] = n_rows
    return counts


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.nexmark_gen", description=__doc__)
    p.add_argument("--events", type=int, required=True, help="number of Nexmark events")
    p.add_argument("--out", required=True, help="folder for person.csv, auction.csv, bid.csv")
    p.add_argument("--gap-ns", type=int, default=EVENT_GAP_NS,
                   help="event time between consecutive events, in nanoseconds")
    args = p.parse_args(argv)
    counts = write_csv(args.out, args.events, gap_ns=args.gap_ns)
    print(", ".join(f"{t}: {n} rows" for t, n in counts.items()))


if __name__ == "__main__":
    main()
