"""nexmark: the event model (proportions, ids, times), splits, determinism."""

from __future__ import annotations

import datetime as dt

import pytest

from executor.connectors import SourceSpec, connector
from executor.connectors.nexmark import SCHEMAS
from planner.errors import ProgrammingError


def rows_of(table: str, n: int, **extra: str) -> list[tuple]:
    opts = {"connector": "nexmark", "nexmark.table.type": table, "nexmark.event.num": str(n),
            "nexmark.base.time.us": "1700000000000000", **extra}
    out: list[tuple] = []
    splits = int(extra.get("nexmark.split.num", "1"))
    for i in range(splits if "par" not in extra else 1):
        r = connector("nexmark").open(SourceSpec(opts, SCHEMAS[table.lower()]))
        while not r.finished:
            out.extend(r.read(500))
    return out


def test_proportions_one_three_fortysix() -> None:
    assert len(rows_of("Person", 5000)) == 100
    assert len(rows_of("Auction", 5000)) == 300
    assert len(rows_of("Bid", 5000)) == 4600


def test_ids_and_references() -> None:
    persons = rows_of("Person", 5000)
    auctions = rows_of("Auction", 5000)
    bids = rows_of("Bid", 5000)
    assert [p[0] for p in persons] == list(range(1000, 1100))
    assert [a[0] for a in auctions] == list(range(1000, 1300))
    # Sellers are people already (or about to be) generated; categories 10..14.
    assert all(1000 <= a[7] < 1100 + 10 for a in auctions)
    assert {a[8] for a in auctions} == {10, 11, 12, 13, 14}
    assert all(a[6] > a[5] for a in auctions)  # expires after it opens
    # Bids go to recent auctions, hot ones often.
    assert all(1000 <= b[0] < 1300 + 10 for b in bids)
    hot = sum(1 for b in bids if (b[0] - 1000) % 100 == 0)
    assert hot > len(bids) / 3


def test_event_times_advance_by_the_gap() -> None:
    bids = rows_of("Bid", 200, **{"nexmark.min.event.gap.in.ns": "1000000"})
    times = [b[5] for b in bids]
    assert times == sorted(times)
    base = dt.datetime(2023, 11, 14, 22, 13, 20)
    assert times[0] == base + dt.timedelta(milliseconds=4)  # event 4 is the first bid
    assert times[-1] == base + dt.timedelta(milliseconds=199)


def test_splits_give_the_same_events() -> None:
    opts = {"connector": "nexmark", "nexmark.table.type": "Bid", "nexmark.event.num": "3000",
            "nexmark.split.num": "3", "nexmark.base.time.us": "0"}
    got = []
    for i in range(2):
        r = connector("nexmark").open(SourceSpec(opts, SCHEMAS["bid"], actor_index=i,
                                                 parallelism=2))
        while not r.finished:
            got.extend(r.read(100))
    whole = rows_of("Bid", 3000, **{"nexmark.base.time.us": "0"})
    assert sorted(got, key=repr) == sorted(whole, key=repr)


def test_deterministic_and_restorable() -> None:
    opts = {"connector": "nexmark", "nexmark.table.type": "Auction", "nexmark.event.num": "2000",
            "nexmark.base.time.us": "0"}
    a = connector("nexmark").open(SourceSpec(opts, SCHEMAS["auction"]))
    head = a.read(10)
    b = connector("nexmark").open(SourceSpec(opts, SCHEMAS["auction"]))
    b.restore(a.position())
    rest = []
    while not b.finished:
        rest.extend(b.read(7))
    whole = rows_of("Auction", 2000, **{"nexmark.base.time.us": "0"})
    assert head + rest == whole


def test_bad_table_type() -> None:
    with pytest.raises(ProgrammingError) as e:
        connector("nexmark").validate(SourceSpec({"nexmark.table.type": "Car"}, []))
    assert "nexmark.table.type" in str(e.value) and e.value.sqlstate == "22023"


def test_one_reader_of_several_splits_keeps_event_time_order() -> None:
    # A watermark follows the largest time handed out: splits must advance together.
    opts = {"connector": "nexmark", "nexmark.table.type": "Bid", "nexmark.event.num": "5000",
            "nexmark.split.num": "4", "nexmark.base.time.us": "0"}
    r = connector("nexmark").open(SourceSpec(opts, SCHEMAS["bid"]))
    got = []
    while not r.finished:
        got.extend(r.read(64))
    times = [b[5] for b in got]
    assert times == sorted(times) and len(got) == 4600
