"""Smoke test of the benchmark: a few thousand events through q0, q1, q2 and the
grouped count, from CSV files, each cross-checked against the plain-Python
reference or the generator's own rows."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from bench.checksum import checksum
from bench.nexmark import format_table
from bench.nexmark_gen import table_rows, write_csv
from bench.reference import AS_ROWS, REFERENCES
from bench.runner import query_sql, run_query, tables_read

EVENTS = 2000


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("nexmark")
    write_csv(str(out), EVENTS)
    return str(out)


def test_generator_writes_header_and_rows(csv_dir: str) -> None:
    with open(Path(csv_dir) / "bid.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["auction", "bidder", "price", "channel", "url", "date_time", "extra"]
    assert len(rows) - 1 == table_rows("bid", EVENTS) == 1840
    # Event 4 is the first bid, 1 ms apart from event 0 at the base time.
    assert rows[1][5] == "2015-07-15 00:00:00.004"
    dt.datetime.strptime(rows[-1][5], "%Y-%m-%d %H:%M:%S.%f")


def test_queries_read_the_right_sources() -> None:
    assert tables_read(query_sql("q0")) == ["bid"]
    assert tables_read(query_sql("q3")) == ["person", "auction"]
    assert tables_read(query_sql("q4")) == ["auction", "bid"]


@pytest.mark.parametrize("query", ["q1", "q2", "count"])
def test_engine_matches_reference(csv_dir: str, query: str) -> None:
    got = run_query(query, EVENTS, csv_dir, timeout=60, settings={"barrier_interval_ms": 100})
    want = AS_ROWS.get(query, lambda r: r)(REFERENCES[query](csv_dir))
    assert "error" not in got, got
    assert got["rows"] == len(want) > 0
    assert got["checksum"] == checksum(want)
    assert got["parse_errors"] == 0


def test_q0_from_nexmark_source_matches_csv(csv_dir: str) -> None:
    """The nexmark connector and the CSV files hold the same events."""
    with open(Path(csv_dir) / "bid.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    want = checksum((int(a), int(b), int(p), dt.datetime.fromisoformat(t))
                    for a, b, p, _c, _u, t, _e in rows)
    got = run_query("q0", EVENTS, None, timeout=60, settings={"barrier_interval_ms": 100})
    assert got["checksum"] == want and got["rows"] == 1840
    table = format_table([got])
    assert "q0" in table and got["checksum"] in table


def test_all_lists_every_example_query_and_marks_targets() -> None:
    from bench.nexmark import TARGETS, all_queries
    names = all_queries()
    assert names[:3] == ["q0", "q1", "q2"] and names[-1] == "count"
    examples = Path(__file__).resolve().parents[2] / "examples" / "nexmark"
    assert set(names) - {"count"} == {p.stem for p in examples.glob("q*.sql")}
    # Twice Flink's published per-core rate where the issue asks for that.
    assert TARGETS["q4"] == 68_000 and TARGETS["q0"] == 500_000 and "q13" not in TARGETS
