"""posix_fs: CSV parsed a block at a time gives exactly what the line-by-line path gives
(rows, positions, bad records with their lines), and what DuckDB's read_csv gives."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from executor.connectors import SourceSpec
from executor.connectors.posix_fs import PosixFsReader
from planner import types as T
from planner.nan import NAN, NUMERIC_NAN
from tests.connectors.recording import Errors, drain


def open_reader(root: Path, cols: list[tuple[str, T.DataType]], blocks: bool,
                **enc: str) -> PosixFsReader:
    sp = SourceSpec({"connector": "posix_fs", "posix_fs.root": str(root),
                     "match_pattern": "*.csv"}, cols, "CSV", enc, metrics=Errors())
    r = PosixFsReader(sp)
    r.poll_interval = 0
    r._blocks = r._blocks and blocks  # False: the line-by-line path only
    return r


def settle(root: Path) -> None:
    """Files older than the settle time, so an unterminated last line is taken."""
    for f in root.iterdir():
        os.utime(f, (0, 0))


def both(root: Path, cols: list[tuple[str, T.DataType]], max_rows: int = 1000,
         **enc: str) -> tuple[list[tuple], PosixFsReader]:
    """The rows of the block path, after checking that they, the final positions and
    the bad records equal the line path's."""
    lines = open_reader(root, cols, False, **enc)
    blocks = open_reader(root, cols, True, **enc)
    want, got = drain(lines, max_rows), drain(blocks, max_rows)
    assert got == want
    assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want]
    assert blocks.position() == lines.position()
    assert blocks.metrics.messages == lines.metrics.messages  # type: ignore[attr-defined]
    return got, blocks


NEXMARK_BID = [("auction", T.INT64), ("bidder", T.INT64), ("price", T.INT64),
               ("channel", T.VARCHAR), ("url", T.VARCHAR), ("date_time", T.TIMESTAMP),
               ("extra", T.VARCHAR)]


def bid_lines(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    base = dt.datetime(2015, 7, 15)
    out = []
    for i in range(n):
        ts = base + dt.timedelta(milliseconds=i * 3 + rnd.randrange(3))
        text = "".join(rnd.choice("abc xyz") for _ in range(rnd.randrange(0, 30)))
        out.append(f"{1000 + i // 10},{rnd.randrange(1000, 2000)},{rnd.randrange(1, 10**7)},"
                   f"channel-{rnd.randrange(10000)},https://x.com/{i}?q=1,"
                   f"{ts.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]},{text}")
    return out


def test_nexmark_bids_over_many_blocks_take_the_block_path(tmp_path: Path) -> None:
    header = "auction,bidder,price,channel,url,date_time,extra\n"
    (tmp_path / "bid.csv").write_text(header + "\n".join(bid_lines(30000)) + "\n")
    rows, r = both(tmp_path, NEXMARK_BID, max_rows=1024)
    assert len(rows) == 30000 and r._lines_until == {}  # no block fell back
    assert isinstance(rows[0][5], dt.datetime) and rows[0][5].tzinfo is None


def test_equals_duckdb_read_csv(tmp_path: Path) -> None:
    """An oracle apart from both paths: DuckDB's read_csv of the same file."""
    lines = bid_lines(5000, seed=3)
    lines[10] = "1001,,5,,https://x,2015-07-15 00:00:01.5,"  # empty fields are NULL
    lines[11] = '1001,7,5,"a,b","q""uoted",2015-07-15 00:00:02,""'
    path = tmp_path / "bid.csv"
    path.write_text("auction,bidder,price,channel,url,date_time,extra\n"
                    + "\n".join(lines) + "\n")
    cols = NEXMARK_BID + [("score", T.FLOAT64), ("ok", T.BOOLEAN), ("amount", T.numeric(10, 2)),
                          ("day", T.DATE)]
    rnd = random.Random(5)
    wide = path.read_text().splitlines()
    wide[0] += ",score,ok,amount,day"
    for i in range(1, len(wide)):
        wide[i] += (f",{rnd.uniform(-1e6, 1e6)!r},{rnd.choice(['true', 'false', ''])},"
                    f"{rnd.randrange(-10**6, 10**6) / 100},2015-07-{rnd.randrange(1, 31):02d}")
    path.write_text("\n".join(wide) + "\n")
    rows, r = both(tmp_path, cols, max_rows=700)
    assert r._lines_until == {}
    duck_types = {"auction": "BIGINT", "bidder": "BIGINT", "price": "BIGINT",
                  "channel": "VARCHAR", "url": "VARCHAR", "date_time": "TIMESTAMP",
                  "extra": "VARCHAR", "score": "DOUBLE", "ok": "BOOLEAN",
                  "amount": "DECIMAL(10,2)", "day": "DATE"}
    want = duckdb.sql(f"SELECT * FROM read_csv('{path}', header = true, "
                      f"columns = {json.dumps(duck_types)}, quote = '\"', escape = '\"')"
                      ).fetchall()
    assert rows == want
    assert rows[10][1] is None and rows[10][3] is None and rows[10][6] is None
    assert rows[11][3:5] == ("a,b", 'q"uoted') and rows[11][6] is None


MIXED = [("a", T.INT16), ("s", T.VARCHAR), ("t", T.TIMESTAMP), ("d", T.FLOAT64),
         ("n", T.numeric(10, 2)), ("b", T.BOOLEAN), ("day", T.DATE), ("tz", T.TIMESTAMPTZ),
         ("r", T.FLOAT32), ("i", T.INT32)]
GOOD = '1,x,2015-07-15 00:00:00.004,1.5,2.345,t,2015-07-15,2015-07-15 00:00:00+02:00,0.1,7'


def write(root: Path, body: bytes, name: str = "a.csv") -> None:
    (root / name).write_bytes(body)
    settle(root)


# Lines the block path takes as they are, then lines it leaves to the line path.
BLOCK_LINES = [
    GOOD,
    '2,"quoted, with comma","2015-07-15 00:00:01",-0,0,false,2015-01-01,2015-07-15,-1e3,-7',
    '3,"a ""b"" c",2015-07-15T00:00:02.123456,1e2,1e2,yes,2015-02-28,2015-07-15 00:00Z,1,0',
    '4,,,,,,,,,',                                  # every value NULL
    '5,"",2015-07-15 00:00:03,"",,"",,,,""',       # quoted empty values are NULL too
    '6,x,2015-07-15,nan,NaN,1,2015-07-15,2015-07-15,NaN,1',  # SQL's NaN, not a float NaN
    '7,x,2015-07-15,-nan,1,1,2015-07-15,2015-07-15,-NAN,1',
    '8,x,2015-07-15,inf,1,1,2015-07-15,2015-07-15,-Infinity,1',
    '9,x,2015-07-15,1e400,1,1,2015-07-15,2015-07-15,1e-400,1',
    '17,a"b,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',    # a quote inside a field
    '18,"a"b,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',   # text after a closing quote
    '19,x\x00y,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',
    '20,é ü 字,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',
]
LINE_LINES = [
    '6,  spaced  ,2015-07-15 00:00:04, 2.5 ,1,on,2015-07-15, 2015-07-15 01:00 ,1, 8 ',
    '+7,x,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,+9',    # signs int() takes
    '8,x,2015-07-15 00:00:05+01:00,1,1,1,2015-07-15,2015-07-15,1,1',  # zone: made UTC
    '40000,x,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',  # smallint out of range
    '0x10,x,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',   # hex: int() rejects it
    '9,x,2015-07-15,0x1p3,1,1,2015-07-15,2015-07-15,1,1',  # hex float too
    '10,x,2015-02-30 00:00:00,1,1,1,2015-07-15,2015-07-15,1,1',  # no such day
    '11,x,2015-07-15 23:59:60,1,1,1,2015-07-15,2015-07-15,1,1',  # leap second
    '12,x,2015-07-15,1_0,1,1,2015-07-15,2015-07-15,1,1_000',     # underscores
    '13,x,2015-07-15,1,abc,maybe,2015-07-15,2015-07-15,1,1',     # bad numeric, boolean
    '14,x,2015-07-15,1,1,1,2015-07-15,2015-07-15Z,1,1',          # bad timestamptz
    '14,too,few',
    '15,x,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1,extra',
    '16,"open quote,2015-07-15,1,1,1,2015-07-15,2015-07-15,1,1',
    '   ',
    '',
]


@pytest.mark.parametrize("line", BLOCK_LINES + LINE_LINES)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_line_among_good_lines(tmp_path: Path, line: str, where: str) -> None:
    """Each kind of value or line, placed first, in the middle or last of a block of good
    lines (the last line of a block is where an open quote could hide)."""
    good = [GOOD] * 50
    at = {"first": 0, "middle": 25, "last": 50}[where]
    lines = good[:at] + [line] + good[at:]
    header = ",".join(c for c, _ in MIXED)
    write(tmp_path, (header + "\n" + "\n".join(lines) + "\n").encode())
    for max_rows in (1, 7, 1000):
        _, r = both(tmp_path, MIXED, max_rows)
        if max_rows == 1:  # the first read takes the header alone, the rest is one block
            assert (r._lines_until == {}) == (line in BLOCK_LINES)


def test_nan_is_sqls_nan(tmp_path: Path) -> None:
    write(tmp_path, ("a,d,r,n\n" + "1,nan,NaN,nan\n" * 20).encode())
    cols = [("a", T.INT32), ("d", T.FLOAT64), ("r", T.FLOAT32), ("n", T.numeric(10, 2))]
    rows, r = both(tmp_path, cols)
    assert r._lines_until == {}
    assert all(x[1] is NAN and x[2] is NAN and x[3] is NUMERIC_NAN for x in rows)


@pytest.mark.parametrize("body", [
    b"a,s\r\n1,x\r\n2,y\r\n",                 # CRLF
    b"a,s\n1,x\r\n2,y\n",                     # mixed
    b"a,s\n1,x\ry\n2,y\n",                    # a lone CR inside a line
    b"a,s\n1,x\r\r\n2,y\n",                   # two CRs before the newline
    b"a,s\n1,x\r2,y\n\n3,z\n",               # a lone CR and an empty line: same count
    b"a,s\n1,\"x\r\ny\"\n2,y\n",              # a quoted CRLF
    b"a,s\n1,\"x\ny\"\n2,y\n",                # a quoted newline (lines are split first)
    b"a,s\n1,x\n2,\"y\n",                    # a quote left open on the last line
    b"a,s\n1,\"x\n2,y\n",                    # ... on another line
    b"a,s\n1,x\xff\xfey\n2,\xe2\x82\n3,z\n",  # not UTF-8: replaced, as the line path does
    b"a,s,junk\n1,x,\xff\n2,y,\xfe\n",        # not UTF-8 in a column nobody reads
    b"\xef\xbb\xbfa,s\n1,x\n",                # a BOM before the header
    b"a,s\n\xef\xbb\xbf1,x\n2,y\n",           # a BOM at a line start
    b"a,s\n1,x\n\n2,y\n",                     # an empty line
    b"a,s\n1,x\n \t\n2,y\n",                  # a blank line
    b"a,s\n1,x\n2,y",                         # the last line unterminated
    b"a,s\n" + b"1,x\n" * 3 + b"2," + b"z" * 140000 + b"\n3,w\n",  # over csv's field limit
])
def test_line_ends_encodings_and_odd_lines(tmp_path: Path, body: bytes) -> None:
    write(tmp_path, body)
    cols = [("a", T.INT64), ("s", T.VARCHAR)]
    for max_rows in (1, 2, 1000):
        both(tmp_path, cols, max_rows)


def test_header_order_missing_extra_and_repeated_columns(tmp_path: Path) -> None:
    cols = [("a", T.INT64), ("b", T.VARCHAR), ("t", T.TIMESTAMP), ("missing", T.INT32)]
    write(tmp_path, b"extra,T,b,A,b\n" + b"".join(
        b"e%d,2015-07-15 00:00:%02d,first%d,%d,second%d\n" % (i, i % 60, i, i, i)
        for i in range(300)))
    rows, r = both(tmp_path, cols, 64)
    assert r._lines_until == {}
    assert rows[5] == (5, "second5", dt.datetime(2015, 7, 15, 0, 0, 5), None)


def test_a_header_naming_no_column(tmp_path: Path) -> None:
    write(tmp_path, b"x,y\n" + b"".join(b"%d,a%d\n" % (i, i) for i in range(100)))
    rows, r = both(tmp_path, [("a", T.INT64), ("b", T.VARCHAR)], 1)
    assert rows == [(None, None)] * 100 and r._lines_until == {}


def test_without_header_other_delimiter(tmp_path: Path) -> None:
    cols = [("a", T.INT64), ("b", T.VARCHAR), ("c", T.FLOAT64)]
    write(tmp_path, b"".join(b"%d|x,%d|%d.5\n" % (i, i, i) for i in range(500)))
    rows, r = both(tmp_path, cols, 100, without_header="true", delimiter="|")
    assert r._lines_until == {} and rows[3] == (3, "x,3", 3.5)
    (tmp_path / "a.csv").unlink()
    write(tmp_path, "1§a§2\n3§\"b§c\"§4\n".encode())  # not one byte: the line path only
    rows, r = both(tmp_path, cols, 100, without_header="true", delimiter="§")
    assert not r._blocks and rows == [(1, "a", 2.0), (3, "b§c", 4.0)]


def test_bad_record_falls_back_for_its_block_only(tmp_path: Path) -> None:
    """A bad value in one block: that block goes line by line (the bad line is reported
    with its number, the others arrive), the next blocks are parsed whole again."""
    lines = bid_lines(40000)
    lines[5000] = lines[5000].replace(",", ",notanint", 1)
    body = ("auction,bidder,price,channel,url,date_time,extra\n" + "\n".join(lines)
            + "\n").encode()
    write(tmp_path, body, "bid.csv")
    rows, r = both(tmp_path, NEXMARK_BID, 1024)
    assert len(rows) == 39999
    messages = r.metrics.messages  # type: ignore[attr-defined]
    assert len(messages) == 1
    assert messages[0].startswith("bid.csv:5002: invalid input syntax for type bigint")
    bad_at = body.index(lines[5000].encode())
    line_by_line_until = r._lines_until["bid.csv"]
    assert bad_at < line_by_line_until <= bad_at + (1 << 20)
    assert line_by_line_until < len(body) // 2  # the blocks after it were parsed whole


def test_every_read_moves_the_position_past_exactly_its_lines(tmp_path: Path) -> None:
    """Exactly once: after each read the position is the end of a line, its line count
    is right, and the rows handed out so far are those of the lines before it; a reader
    restored from any such position hands out exactly the rest."""
    lines = bid_lines(20000)
    lines[9000] = "bad"
    body = ("auction,bidder,price,channel,url,date_time,extra\n" + "\n".join(lines)
            + "\n").encode()
    write(tmp_path, body)
    want, _ = both(tmp_path, NEXMARK_BID, 1000)
    r = open_reader(tmp_path, NEXMARK_BID, True)
    got: list[tuple] = []
    positions = []
    sizes = random.Random(1)
    while len(got) < len(want):
        got.extend(r.read(sizes.choice([1, 5, 333, 1024, 5000])))
        offset, line_no = r.files["a.csv"]
        assert body[offset - 1:offset] == b"\n" and body[:offset].count(b"\n") == line_no
        # Lines 2.. are data; line 9002 is the bad one.
        assert got == want[:line_no - 1 - (line_no >= 9002)]
        positions.append((json.dumps(r.position()), len(got)))
    assert got == want
    for saved, n in positions[::7]:
        again = open_reader(tmp_path, NEXMARK_BID, True)
        again.restore(json.loads(saved))
        assert drain(again, 333) == want[n:]


def test_values_have_the_row_paths_python_types(tmp_path: Path) -> None:
    write(tmp_path, ("a,s,t,d,n,b,day,tz,r,i\n" + "\n".join([GOOD] * 3) + "\n").encode())
    rows, r = both(tmp_path, MIXED)
    assert r._lines_until == {}
    assert rows[0] == (1, "x", dt.datetime(2015, 7, 15, 0, 0, 0, 4000), 1.5,
                       decimal.Decimal("2.35"), True, dt.date(2015, 7, 15),
                       dt.datetime(2015, 7, 14, 22, tzinfo=dt.timezone.utc), 0.1, 7)
    assert [type(v) for v in rows[0]] == [int, str, dt.datetime, float, decimal.Decimal,
                                          bool, dt.date, dt.datetime, float, int]

