"""Nexmark self-joins (q5, q7 read `bid` twice) from CSV files through posix_fs,
run the way the benchmark runs them: each view must equal DuckDB's answer over
the same files. The two scans of `bid` have a reader each and they advance at
their own speeds; a run judged complete when the faster one reached the end of
the file committed a view over part of the rows (fewer rows, run-dependent)."""

from __future__ import annotations

import re

import duckdb
import pytest

from bench.checksum import checksum
from bench.nexmark_gen import write_csv
from bench.runner import query_sql, run_query
from tests.sources.test_nexmark_queries import normalize, to_duckdb

EVENTS = 30000


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("nexmark_csv")
    write_csv(str(out), EVENTS)
    return str(out)


def oracle(csv_dir: str, name: str) -> list[tuple]:
    con = duckdb.connect()
    for t in ("bid", "auction", "person"):
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_csv('{csv_dir}/{t}.csv', "
                    "header = true, timestampformat = '%Y-%m-%d %H:%M:%S.%g')")
    query = re.split(r"\bAS\s*\n", query_sql(name), maxsplit=1)[1].strip().rstrip(";")
    return normalize(con.execute(to_duckdb(query)).fetchall())


@pytest.mark.parametrize("name", ["q5", "q7"])
def test_self_join_from_csv_matches_duckdb(csv_dir: str, name: str) -> None:
    want = oracle(csv_dir, name)
    assert len(want) > 1, "an oracle this small proves nothing"
    got = run_query(name, EVENTS, csv_dir, timeout=120,
                    settings={"barrier_interval_ms": 100})
    assert "error" not in got, got
    assert got["parse_errors"] == 0
    assert (got["rows"], got["checksum"]) == (len(want), checksum(want))
