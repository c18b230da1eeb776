"""posix_fs: CSV with and without header, JSON lines, new files, bad records, positions."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from executor.connectors import SourceMetrics, SourceSpec, connector
from executor.connectors.posix_fs import PosixFsReader
from planner import types as T
from planner.errors import ProgrammingError

COLS = [("id", T.INT32), ("name", T.VARCHAR), ("amount", T.FLOAT64)]


def spec(root: Path, encode: str = "CSV", **enc: str) -> SourceSpec:
    return SourceSpec({"connector": "posix_fs", "posix_fs.root": str(root),
                       "match_pattern": "*.csv" if encode == "CSV" else "*.json"},
                      COLS, encode, enc, metrics=SourceMetrics())


def drain(reader: PosixFsReader) -> list[tuple]:
    reader.poll_interval = 0
    rows: list[tuple] = []
    while True:
        got = reader.read(1000)
        if not got and not any(os.path.getsize(os.path.join(reader.root, f)) > p[0]
                               for f, p in reader.files.items()):
            return rows
        rows.extend(got)


def test_csv_with_header_maps_by_name_and_skips_bad_rows(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("name,id,amount\nx,1,1.5\ny,notanint,2\nz,3,3\n"
                                    "too,many,fields,here\n")
    (tmp_path / "ignored.txt").write_text("nope\n")
    sp = spec(tmp_path)
    r = connector("posix_fs").open(sp)
    assert drain(r) == [(1, "x", 1.5), (3, "z", 3.0)]
    assert sp.metrics.parse_errors == 2
    assert sp.metrics.last_error is not None and sp.metrics.last_error.startswith("a.csv:5:")


def test_csv_without_header_and_delimiter(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1|a|2.5\n2||3\n")
    r = connector("posix_fs").open(spec(tmp_path, without_header="true", delimiter="|"))
    assert drain(r) == [(1, "a", 2.5), (2, None, 3.0)]


def test_json_lines_new_files_and_restore(tmp_path: Path) -> None:
    (tmp_path / "1.json").write_text('{"id": 1, "name": "a", "amount": 1}\n{bad json\n')
    sp = spec(tmp_path, "JSON")
    r = connector("posix_fs").open(sp)
    assert drain(r) == [(1, "a", 1.0)]
    assert sp.metrics.parse_errors == 1 and "1.json:2" in (sp.metrics.last_error or "")
    (tmp_path / "2.json").write_text('{"id": 2, "name": "b", "amount": 2.5, "x": 0}\n')
    with open(tmp_path / "1.json", "a") as f:
        f.write('{"id": 3}\n')
    assert sorted(drain(r)) == [(2, "b", 2.5), (3, None, None)]
    pos = r.position()
    again = connector("posix_fs").open(spec(tmp_path, "JSON"))
    again.restore(pos)
    assert drain(again) == []  # everything before the position is not read twice


def test_missing_root_and_format_fail_at_create(tmp_path: Path) -> None:
    with pytest.raises(ProgrammingError) as e:
        connector("posix_fs").validate(spec(tmp_path / "nope"))
    assert "posix_fs.root" in str(e.value) and e.value.sqlstate == "22023"
    with pytest.raises(ProgrammingError) as e:
        connector("posix_fs").validate(SourceSpec({"posix_fs.root": str(tmp_path)}, COLS))
    assert "ENCODE" in str(e.value)


def test_column_conversion_equals_row_conversion(tmp_path: Path) -> None:
    """A read converted a column at a time gives the rows the row-by-row path gives:
    header order, missing columns, empty values as NULL, timestamps; and a value out of
    range sends the read to the row path, which skips and counts only that line."""
    cols = [("a", T.INT16), ("b", T.VARCHAR), ("t", T.TIMESTAMP), ("missing", T.INT64)]
    (tmp_path / "a.csv").write_text("t,b,a\n2015-07-15 00:00:00.004,x,1\n"
                                    "2015-07-15 00:00:01.500,,2\n")
    (tmp_path / "b.csv").write_text("a,b,t\n3,y,2015-07-15 00:00:02\n"
                                    "40000,z,2015-07-15 00:00:03\n")
    sp = SourceSpec({"connector": "posix_fs", "posix_fs.root": str(tmp_path),
                     "match_pattern": "*.csv"}, cols, "CSV", {}, metrics=SourceMetrics())
    r = connector("posix_fs").open(sp)
    ts = dt.datetime(2015, 7, 15)
    assert sorted(drain(r)) == [
        (1, "x", ts + dt.timedelta(microseconds=4000), None),
        (2, None, ts + dt.timedelta(seconds=1, microseconds=500000), None),
        (3, "y", ts + dt.timedelta(seconds=2), None)]
    assert sp.metrics.parse_errors == 1 and "b.csv:3" in (sp.metrics.last_error or "")
    assert r._convert_columns([["40000", "z", "2015-07-15 00:00:03"]], [0, 1, 2], 3) is None
    assert r._convert_columns([["5", "", "2015-07-15"]], [0, 1, 2], 3) == [(5, None, ts, None)]
