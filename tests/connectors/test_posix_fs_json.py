"""posix_fs JSON lines: each row is what `T.coerce` makes of the object's values (keys
matched whatever their case), each bad line is reported with its number, in order."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from executor.connectors import SourceSpec
from executor.connectors.posix_fs import PosixFsReader
from planner import types as T
from planner.nan import NAN, NUMERIC_NAN
from tests.connectors.recording import Errors

COLS = [("id", T.INT64), ("small", T.INT16), ("name", T.VARCHAR), ("amount", T.FLOAT64),
        ("t", T.TIMESTAMP), ("tz", T.TIMESTAMPTZ), ("ok", T.BOOLEAN), ("n", T.numeric(10, 2)),
        ("day", T.DATE)]


def expected(name: str, lines: list[str]) -> tuple[list[tuple], list[str]]:
    """The oracle: every non-blank line parsed alone, its keys lowered (the last of keys
    equal but for case wins), each value through `T.coerce`."""
    rows, errors = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a JSON line must be an object")
            lowered = {k.lower(): v for k, v in obj.items()}
            rows.append(tuple(T.coerce(lowered.get(c), t) for c, t in COLS))
        except (ValueError, OverflowError, TypeError) as e:
            errors.append(f"{name}:{n}: {e}")
    return rows, errors


def read_all(root: Path, max_rows: int) -> tuple[list[tuple], list[str]]:
    metrics = Errors()
    r = PosixFsReader(SourceSpec({"connector": "posix_fs", "posix_fs.root": str(root),
                                  "match_pattern": "*.json"}, COLS, "JSON", {},
                                 metrics=metrics))
    r.poll_interval = 0
    rows: list[tuple] = []
    while True:
        before = json.dumps(r.position())
        got = r.read(max_rows)
        if not got and json.dumps(r.position()) == before:
            return rows, metrics.messages
        rows.extend(got)


def check(root: Path, lines: list[str]) -> list[tuple]:
    (root / "a.json").write_text("\n".join(lines) + "\n")
    os.utime(root / "a.json", (0, 0))
    want, errors = expected("a.json", lines)
    for max_rows in (1, 3, 1000):
        got, messages = read_all(root, max_rows)
        assert got == want
        assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want]
        assert messages == errors
    return want


def test_values_of_every_kind_and_bad_lines_in_order(tmp_path: Path) -> None:
    lines = [
        '{"id": 1, "small": 2, "name": "a", "amount": 1.5, "t": "2015-07-15 00:00:00.004",'
        ' "tz": "2015-07-15 00:00:00+02:00", "ok": true, "n": "2.345", "day": "2015-07-15"}',
        '{"ID": 2, "Name": "upper keys", "AMOUNT": 3}',       # keys in any case; int for double
        '{"id": 3, "ID": 4, "name": null}',                   # equal but for case: last wins
        '{"name": "order", "id": 5, "t": "2015-07-15T01:02:03"}',  # another key order
        '{"id": 6.0, "small": "7", "amount": "8.5", "ok": "yes", "n": 1.005}',
        '{"id": 7, "t": "2015-07-15 00:00:00 UTC", "tz": "2015-07-15"}',
        '{"id": 8, "t": " 2015-07-15 00:00:01 ", "name": {"nested": [1, 2]}}',
        '{"id": 9, "t": "2015-07-15 00:00:00+01:00"}',       # zone: made UTC, no zone
        '{"id": true}',                                      # boolean for bigint: bad
        '{"small": 40000}',                                  # out of range
        '{"id": "x1"}',
        '{"t": 5}',
        '{"t": "2015-02-30"}',
        '{"amount": "abc"}',
        '[1, 2]',
        '"text"',
        '{bad json',
        '{"id": 10} trailing',
        '',
        '   ',
        '{"id": 11, "extra": 1, "more": {"x": 1}}',
        '{"id": 9223372036854775808}',
        '{"id": 12, "name": 5, "ok": 0, "day": "2015-07-15 10:00:00"}',
        '{"id": 13, "amount": NaN, "n": "NaN"}',             # SQL's NaN, float and numeric
    ]
    rows = check(tmp_path, lines)
    assert len(rows) == 11 and rows[2][0] == 4 and rows[1][2] == "upper keys"
    assert rows[10][3] is NAN and rows[10][7] is NUMERIC_NAN


def test_many_key_orders(tmp_path: Path) -> None:
    """More distinct key orders than the reader keeps column lists for."""
    rnd = random.Random(3)
    keys = ["id", "small", "name", "amount", "t", "ok", "junk", "Name", "ID"]
    lines = []
    for i in range(2000):
        ks = rnd.sample(keys, rnd.randrange(1, len(keys)))
        obj: dict[str, Any] = {}
        for k in ks:
            obj[k] = {"id": i, "ID": -i, "small": i % 100, "name": f"n{i}", "Name": "N",
                      "amount": i / 4, "t": f"2015-07-15 00:00:{i % 60:02d}", "ok": i % 2 == 0,
                      "junk": [i]}[k]
        lines.append(json.dumps(obj))
    assert len(check(tmp_path, lines)) == 2000
