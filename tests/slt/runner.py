"""A small sqllogictest runner: parses `.slt` files and runs them against a fresh
embedded database, reporting the file and line of the first record that fails.

Supported records (separated by blank lines, `#` starts a comment line):

    statement ok                       the statement must succeed
    statement error [SQLSTATE] [@N] [regex]
                                       it must fail; a five-character code is compared
                                       with the error's SQLSTATE, `@N` with its 1-based
                                       character position in the SQL, and the rest is
                                       searched for in the message
    statement count N                  it must succeed and affect N rows
    query <types> [nosort|rowsort|valuesort] [label]
    <sql>
    ----
    <expected rows, values separated by spaces or tabs>
    query error [SQLSTATE] [regex]     same as statement error, for a query
    flush                              shorthand for `statement ok` + `FLUSH`

`<types>` has one letter per column (I integer, R float/numeric, T text, B boolean,
D date/time, any other letter accepted); only the column count is checked. Values
print as PostgreSQL text (`planner.types.to_text`): NULL as `NULL`, booleans `t`/`f`,
the empty string as `(empty)`. Runs of whitespace compare equal, so text values
with single spaces can be written as they are.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlstream
from planner.types import Interval, to_text

_SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
_SORT_MODES = ("nosort", "rowsort", "valuesort")


@dataclass
class Record:
    """One sqllogictest record: what to run and what must come back."""

    kind: str  # "statement", "query" or "flush"
    line: int  # 1-based line of the record's header
    sql: str = ""
    expect_error: bool = False
    sqlstate: str | None = None
    position: int | None = None
    pattern: str | None = None
    count: int | None = None
    types: str = ""
    sort: str = "nosort"
    expected: list[str] = field(default_factory=list)


class SltFailure(AssertionError):
    """A record whose outcome differs from the file; the message names file and line."""


def parse(text: str, path: str = "<string>") -> list[Record]:
    """The records of an slt file, in order."""
    lines = text.splitlines()
    records: list[Record] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        words = stripped.split()
        head = words[0]
        lineno = i + 1
        if head == "flush" and len(words) == 1:
            records.append(Record("flush", lineno, sql="FLUSH"))
            i += 1
            continue
        if head not in ("statement", "query") or len(words) < 2:
            raise SltFailure(f"{path}:{lineno}: cannot parse record header {stripped!r}")
        rec = Record(head, lineno)
        if words[1] == "error":
            rec.expect_error = True
            rest = stripped.split(None, 2)[2] if len(words) > 2 else ""
            rec.sqlstate, rec.position, rec.pattern = _split_error_spec(rest)
        elif head == "statement":
            if words[1] == "count" and len(words) == 3:
                rec.count = int(words[2])
            elif words[1] != "ok":
                raise SltFailure(f"{path}:{lineno}: unknown statement mode {words[1]!r}")
        else:
            rec.types = words[1]
            if len(words) > 2:
                if words[2] not in _SORT_MODES:
                    raise SltFailure(f"{path}:{lineno}: unknown sort mode {words[2]!r}")
                rec.sort = words[2]
        i += 1
        sql_lines: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
            sql_lines.append(lines[i])
            i += 1
        rec.sql = "\n".join(sql_lines)
        if not rec.sql.strip():
            raise SltFailure(f"{path}:{lineno}: record without SQL")
        if i < len(lines) and lines[i].strip() == "----":
            if head != "query" or rec.expect_error:
                raise SltFailure(f"{path}:{lineno}: only a query record has a result section")
            i += 1
            while i < len(lines) and lines[i].strip():
                rec.expected.append(lines[i])
                i += 1
        records.append(rec)
    return records


def _split_error_spec(rest: str) -> tuple[str | None, int | None, str | None]:
    """`23505 @8 duplicate key` -> ("23505", 8, "duplicate key"); a lone regex ->
    (None, None, regex)."""
    sqlstate = position = None
    rest = rest.strip()
    first, _, tail = rest.partition(" ")
    if _SQLSTATE.match(first):
        sqlstate, rest = first, tail.strip()
    first, _, tail = rest.partition(" ")
    if re.fullmatch(r"@\d+", first):
        position, rest = int(first[1:]), tail.strip()
    return sqlstate, position, (rest or None)


def format_value(value: Any, type_name: str = "") -> str:
    """A value as written in a result section. A real (float4) reads back as the double
    of the same bits; it is printed as PostgreSQL prints a real: the shortest decimal
    that names the same float4 (0.1, not 0.10000000149011612). Intervals: see _interval."""
    if value is None:
        return "NULL"
    if type_name == "real" and isinstance(value, float) and math.isfinite(value):
        value = _shortest_real(value)
    if isinstance(value, dt.timedelta):
        value = _interval(value)
    if isinstance(value, list):  # an array, in PostgreSQL's text form: {1,NULL,"a b"}
        from sqlstream.pgwire.codec import array_text
        return array_text(value)
    text = to_text(value)
    return text if text != "" else "(empty)"


def _interval(td: dt.timedelta) -> Interval:
    """An interval read back as a timedelta (days and time, months folded into days as
    30 each) as PostgreSQL would print it: both parts with the sign of the whole, so
    minus one hour is -01:00:00, not -1 days +23:00:00."""
    micros = (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds
    days, rest = divmod(abs(micros), 86_400_000_000)
    sign = -1 if micros < 0 else 1
    return Interval(0, sign * days, sign * rest)


def _shortest_real(v: float) -> float:
    for digits in range(1, 10):
        short = float(f"{v:.{digits}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == struct.unpack(
                "f", struct.pack("f", v))[0]:
            return short
    return v


def _normalize(line: str) -> str:
    return " ".join(line.split())


def _result_lines(rows: list[tuple], types: list[str], sort: str) -> list[str]:
    if sort == "valuesort":
        values = sorted(format_value(v, t) for row in rows for v, t in zip(row, types))
        return values
    lines = [_normalize(" ".join(format_value(v, t) for v, t in zip(row, types)))
             for row in rows]
    if sort == "rowsort":
        lines.sort()
    return lines


def _expected_lines(rec: Record) -> list[str]:
    if rec.sort == "valuesort":
        return sorted(v for line in rec.expected for v in line.split())
    lines = [_normalize(line) for line in rec.expected]
    if rec.sort == "rowsort":
        lines.sort()
    return lines


class Runner:
    """Runs records against one connection; `run_file` opens a fresh one per file."""

    def __init__(self, conn: sqlstream.Connection, path: str = "<string>") -> None:
        self.conn = conn
        self.path = path

    def run(self, records: list[Record]) -> None:
        for rec in records:
            self.run_record(rec)

    def _where(self, rec: Record) -> str:
        return f"{self.path}:{rec.line}"

    def run_record(self, rec: Record) -> None:
        cur = self.conn.cursor()
        try:
            cur.execute(rec.sql)
        except sqlstream.Error as e:
            if not rec.expect_error:
                raise SltFailure(f"{self._where(rec)}: unexpected error "
                                 f"[{e.sqlstate}] {e}\n  SQL: {rec.sql}") from e
            self._check_error(rec, e)
            return
        if rec.expect_error:
            raise SltFailure(f"{self._where(rec)}: expected an error "
                             f"({rec.sqlstate or ''} {rec.pattern or ''}) but the statement "
                             f"succeeded\n  SQL: {rec.sql}")
        if rec.kind == "statement" and rec.count is not None and cur.rowcount != rec.count:
            raise SltFailure(f"{self._where(rec)}: expected {rec.count} rows affected, got "
                             f"{cur.rowcount}\n  SQL: {rec.sql}")
        if rec.kind == "query":
            self._check_rows(rec, cur)

    def _check_error(self, rec: Record, e: sqlstream.Error) -> None:
        if rec.sqlstate is not None and e.sqlstate != rec.sqlstate:
            raise SltFailure(f"{self._where(rec)}: expected SQLSTATE {rec.sqlstate}, got "
                             f"[{e.sqlstate}] {e}\n  SQL: {rec.sql}") from e
        if rec.position is not None and e.position != rec.position:
            raise SltFailure(f"{self._where(rec)}: expected the error at position "
                             f"{rec.position}, got {e.position}: [{e.sqlstate}] {e}\n"
                             f"  SQL: {rec.sql}") from e
        if rec.pattern is not None and not re.search(rec.pattern, str(e), re.I):
            raise SltFailure(f"{self._where(rec)}: error message {str(e)!r} does not match "
                             f"{rec.pattern!r}\n  SQL: {rec.sql}") from e

    def _check_rows(self, rec: Record, cur: sqlstream.Cursor) -> None:
        if cur.description is None:
            raise SltFailure(f"{self._where(rec)}: query returned no result set\n"
                             f"  SQL: {rec.sql}")
        if len(cur.description) != len(rec.types):
            raise SltFailure(f"{self._where(rec)}: expected {len(rec.types)} columns "
                             f"({rec.types}), got {len(cur.description)}\n  SQL: {rec.sql}")
        types = [str(d[1]) for d in cur.description]
        actual = _result_lines(cur.fetchall(), types, rec.sort)
        expected = _expected_lines(rec)
        if actual != expected:
            raise SltFailure(
                f"{self._where(rec)}: query result mismatch\n  SQL: {rec.sql}\n"
                f"  expected:\n" + "".join(f"    {x}\n" for x in expected)
                + "  actual:\n" + "".join(f"    {x}\n" for x in actual))


def run_file(path: Path, barrier_interval_ms: int = 20, **settings: Any) -> None:
    """Run one `.slt` file against a fresh temporary database."""
    records = parse(path.read_text(), str(path))
    with sqlstream.connect(barrier_interval_ms=barrier_interval_ms, **settings) as conn:
        Runner(conn, str(path)).run(records)
