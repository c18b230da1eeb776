"""Readers produce only the columns a view reads (`SourceSpec.output`): the same values
as a whole-row read picked afterwards, at the same positions; a record with a bad value
is skipped and reported whichever columns are read, so every view sees the same rows."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from executor.connectors import SourceSpec
from executor.connectors.datagen import DatagenReader
from executor.connectors.nexmark import SCHEMAS, NexmarkReader
from executor.connectors.posix_fs import PosixFsReader
from planner import types as T
from tests.connectors.recording import Errors, drain

COLS = [("id", T.INT64), ("note", T.VARCHAR), ("price", T.INT32), ("ts", T.TIMESTAMP),
        ("extra", T.VARCHAR)]


def fs_reader(root: Path, output: list[int] | None, blocks: bool, encode: str = "CSV",
              **enc: str) -> PosixFsReader:
    spec = SourceSpec({"connector": "posix_fs", "posix_fs.root": str(root),
                       "match_pattern": "*"}, COLS, encode, enc, metrics=Errors(),
                      output=output)
    r = PosixFsReader(spec)
    r.poll_interval = 0
    r._blocks = r._blocks and blocks
    return r


def write_rows(root: Path, n: int, header: str | None) -> None:
    base = dt.datetime(2024, 1, 1)
    lines = [header] if header else []
    for i in range(n):
        ts = (base + dt.timedelta(seconds=i)).isoformat(" ")
        fields = {"id": str(i), "note": f"n{i % 7}", "price": str(i * 3 % 1000), "ts": ts,
                  "extra": "x" * (50 + i % 30)}
        order = header.split(",") if header else [c for c, _ in COLS]
        lines.append(",".join(fields[c] for c in order))
    (root / "a.csv").write_text("\n".join(lines) + "\n")
    os.utime(root / "a.csv", (0, 0))


@pytest.mark.parametrize("blocks", [True, False])
@pytest.mark.parametrize("header", [None, "id,note,price,ts,extra", "extra,ts,id,price,note"])
@pytest.mark.parametrize("output", [[0, 2, 3], [3], [4, 0], [1, 2, 3, 4, 0]])
def test_csv_columns_read_are_the_whole_rows_picked(tmp_path: Path, blocks: bool,
                                                     header: str | None,
                                                     output: list[int]) -> None:
    write_rows(tmp_path, 3000, header)
    enc = {"without_header": "false" if header else "true"}
    whole = fs_reader(tmp_path, None, blocks, **enc)
    part = fs_reader(tmp_path, output, blocks, **enc)
    full = drain(whole, 700)
    assert len(full) == 3000 and len(full[0]) == 5
    assert drain(part, 700) == [tuple(r[i] for i in output) for r in full]
    assert part.position() == whole.position()  # byte offsets and lines, not columns
    assert part.metrics.parse_errors == 0


@pytest.mark.parametrize("blocks", [True, False])
@pytest.mark.parametrize("output", [[0, 3], [2, 0], [1], [4, 1]])
def test_a_bad_value_skips_the_record_whatever_is_read(tmp_path: Path, blocks: bool,
                                                       output: list[int]) -> None:
    write_rows(tmp_path, 50, "id,note,price,ts,extra")
    lines = (tmp_path / "a.csv").read_text().split("\n")
    lines[11] = "10,n3,oops,2024-01-01 00:00:10,xx"  # price is no integer
    lines[21] = "20,n6,7,2024-01-01 00:00:20"  # a field short
    lines[31] = "30,n2,9,not a time,xx"  # ts is no timestamp
    (tmp_path / "a.csv").write_text("\n".join(lines))
    os.utime(tmp_path / "a.csv", (0, 0))
    whole = drain(fs_reader(tmp_path, None, blocks))
    reader = fs_reader(tmp_path, output, blocks)
    assert drain(reader) == [tuple(r[i] for i in output) for r in whole]
    assert len(whole) == 47
    assert [m.split(":")[1] for m in reader.metrics.messages] == ["12", "22", "32"]
    assert reader.metrics.messages[0] == 'a.csv:12: invalid input syntax for type integer: "oops"'


def test_json_checks_every_key_and_converts_those_read(tmp_path: Path) -> None:
    objs = [{"id": i, "note": f"n{i}", "price": i * 2, "ts": f"2024-01-01 00:00:{i:02d}",
             "extra": "e"} for i in range(20)]
    objs[5]["price"] = "oops"
    (tmp_path / "a.json").write_text("\n".join(json.dumps(o) for o in objs) + "\n")
    r = fs_reader(tmp_path, [3, 0], False, "JSON")
    rows = drain(r)
    # price is not read, but the record with a bad price is skipped all the same
    assert rows == [(dt.datetime(2024, 1, 1, 0, 0, i), i) for i in range(20) if i != 5]
    assert r.metrics.parse_errors == 1
    r = fs_reader(tmp_path, [2], False, "JSON")
    assert drain(r) == [(i * 2,) for i in range(20) if i != 5]
    assert r.metrics.parse_errors == 1


@pytest.mark.parametrize("table,names", [
    ("bid", ["auction", "bidder", "price", "date_time"]),
    ("bid", ["date_time", "extra"]),
    ("bid", ["url", "auction"]),
    ("person", ["id", "name", "date_time"]),
    ("auction", ["id", "seller", "category", "expires"]),
])
def test_nexmark_columns_read_are_the_whole_events_picked(table: str, names: list[str]) -> None:
    opts = {"connector": "nexmark", "nexmark.table.type": table, "nexmark.event.num": "3000",
            "nexmark.split.num": "2", "nexmark.base.time.us": "0"}
    cols = list(SCHEMAS[table])
    output = [[c for c, _ in cols].index(n) for n in names]
    whole = NexmarkReader(SourceSpec(opts, cols))
    part = NexmarkReader(SourceSpec(opts, cols, output=output))
    full = whole.read(5000)
    assert len(full) > 50
    assert part.read(5000) == [tuple(r[i] for i in output) for r in full]
    assert part.position() == whole.position()


def test_datagen_columns_read_are_the_whole_rows_picked() -> None:
    opts = {"connector": "datagen", "fields.id.kind": "sequence", "fields.id.start": "1",
            "fields.id.end": "500", "fields.v.min": "0", "fields.v.max": "99",
            "fields.s.length": "5", "datagen.split.num": "2", "datagen.base.time.us": "0"}
    cols = [("id", T.INT64), ("s", T.VARCHAR), ("v", T.INT32), ("t", T.TIMESTAMP)]
    whole = DatagenReader(SourceSpec(opts, cols))
    part = DatagenReader(SourceSpec(opts, cols, output=[3, 2]))
    full = [r for _ in range(4) for r in whole.read(200)]
    got = [r for _ in range(4) for r in part.read(200)]
    assert len(full) == 500 and whole.finished
    # The sequence bounds the rows though its column is not read.
    assert got == [(r[3], r[2]) for r in full] and part.finished
    assert part.position() == whole.position()
