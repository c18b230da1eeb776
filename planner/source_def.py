"""Parsing of `CREATE SOURCE` and `CREATE TABLE ... WITH (connector = ...)`.

sqlglot does not know RisingWave's connector clauses, so the parts it lacks are
cut out here by a small scanner (quotes and parentheses aware): the column list
(minus `WATERMARK FOR` items, which are parsed here), `WITH (k = 'v', ...)`, and
`FORMAT PLAIN ENCODE JSON | CSV (...)`. The remaining column list is handed to
sqlglot as an ordinary CREATE TABLE.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from planner import types as T
from planner.errors import DUPLICATE_COLUMN, SYNTAX_ERROR, ProgrammingError, not_supported
from planner.parse import parse


@dataclass
class SourceColumn:
    name: str
    type: T.DataType
    primary_key: bool = False


@dataclass
class SourceDef:
    """What a connector-backed CREATE statement says."""

    kind: str  # "source" | "table"
    name: str
    if_not_exists: bool
    columns: list[SourceColumn]
    options: dict[str, str]
    format: str | None = None  # PLAIN
    encode: str | None = None  # JSON | CSV
    encode_options: dict[str, str] = field(default_factory=dict)
    watermark: tuple[str, int] | None = None  # (column, delay in microseconds)
    primary_key: list[str] = field(default_factory=list)
    # Columns declared `name TIMESTAMPTZ AS PROCTIME()`: filled with the time a row is
    # read, not by the connector.
    proctime: list[str] = field(default_factory=list)


_HEAD = re.compile(r"^\s*CREATE\s+(SOURCE|TABLE)\s+(IF\s+NOT\s+EXISTS\s+)?"
                   r"(\"[^\"]+\"|[\w.]+)\s*", re.I | re.S)
_WATERMARK = re.compile(r"^\s*WATERMARK\s+FOR\s+(\"[^\"]+\"|\w+)\s+AS\s+(\"[^\"]+\"|\w+)\s*"
                        r"(?:-\s*INTERVAL\s+'([^']*)'\s*(\w+)?)?\s*$", re.I | re.S)
_PROCTIME = re.compile(r"^(.*?)\s+AS\s+PROCTIME\s*\(\s*\)\s*$", re.I | re.S)
_FORMAT = re.compile(r"^FORMAT\s+(\w+)\s+ENCODE\s+(\w+)\s*", re.I | re.S)


def has_connector(text: str) -> bool:
    """Whether a CREATE TABLE statement carries a connector WITH clause."""
    return re.search(r"\bconnector\s*=", text, re.I) is not None


def scan_top_level(text: str) -> Iterator[tuple[int, int]]:
    """(offset, depth) of every character outside quoted text, where depth is the
    number of parentheses open around it (a parenthesis itself is at the outer depth)."""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in ("'", '"'):
            end = text.find(ch, i + 1)
            i = (end if end >= 0 else len(text) - 1) + 1
            continue
        if ch == ")":
            depth -= 1
        yield i, depth
        if ch == "(":
            depth += 1
        i += 1


def _matching_paren(text: str, start: int) -> int:
    """Index of the ')' closing the '(' at `start`, skipping quoted text."""
    for i, depth in scan_top_level(text[start:]):
        if depth == 0 and i > 0 and text[start + i] == ")":
            return start + i
    raise ProgrammingError("unbalanced parentheses", SYNTAX_ERROR, start + 1)


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    parts: list[str] = []
    cur = 0
    for i, depth in scan_top_level(text):
        if depth == 0 and text[i] == ",":
            parts.append(text[cur:i])
            cur = i + 1
    parts.append(text[cur:])
    return [p.strip() for p in parts if p.strip()]


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name.lower()


def parse_options(body: str, offset: int) -> dict[str, str]:
    """`k = 'v', a.b = 3` -> {"k": "v", "a.b": "3"} (keys lowercased, in order)."""
    out: dict[str, str] = {}
    for item in _split_top(body):
        m = re.match(r"^(\"[^\"]+\"|'[^']+'|[\w.]+)\s*=\s*(.+)$", item, re.S)
        if m is None:
            raise ProgrammingError(f"expected key = 'value' in WITH options, got: {item}",
                                   SYNTAX_ERROR, offset + 1)
        key = m.group(1).strip("'\"").lower()
        value = m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].replace("''", "'")
        out[key] = value
    return out


def parse_source(text: str) -> SourceDef:
    """Parse a CREATE SOURCE / CREATE TABLE statement with connector clauses."""
    m = _HEAD.match(text)
    if m is None:
        raise ProgrammingError("expected CREATE SOURCE name (...) WITH (...)", SYNTAX_ERROR, 1)
    kind = m.group(1).lower()
    name = _unquote(m.group(3))
    pos = m.end()
    column_items: list[str] = []
    if pos < len(text) and text[pos] == "(":
        close = _matching_paren(text, pos)
        column_items = _split_top(text[pos + 1:close])
        pos = close + 1
    rest = text[pos:].strip().rstrip(";").strip()
    rest_offset = len(text) - len(text[pos:].lstrip())
    options: dict[str, str] = {}
    fmt = encode = None
    encode_options: dict[str, str] = {}
    wm = re.match(r"^WITH\s*\(", rest, re.I)
    if wm:
        start = wm.end() - 1
        close = _matching_paren(rest, start)
        options = parse_options(rest[start + 1:close], rest_offset + start)
        rest = rest[close + 1:].strip()
    fm = _FORMAT.match(rest)
    if fm:
        fmt, encode = fm.group(1).upper(), fm.group(2).upper()
        rest = rest[fm.end():].strip()
        if rest.startswith("("):
            close = _matching_paren(rest, 0)
            encode_options = parse_options(rest[1:close], rest_offset)
            rest = rest[close + 1:].strip()
    if rest:
        raise ProgrammingError(f"syntax error at or near \"{rest.split()[0]}\"", SYNTAX_ERROR,
                               len(text) - len(rest) + 1)
    if "connector" not in options:
        raise ProgrammingError("missing WITH option \"connector\"", SYNTAX_ERROR, 1)
    watermark = None
    plain: list[str] = []
    proctime: list[str] = []
    for item in column_items:
        w = _WATERMARK.match(item)
        if w is not None:
            col, base = _unquote(w.group(1)), _unquote(w.group(2))
            if col != base:
                raise not_supported("a WATERMARK expression over another column")
            delay = 0
            if w.group(3) is not None:
                iv = T.parse_interval(w.group(3), w.group(4).lower() if w.group(4) else None)
                delay = iv.total_micros()
            watermark = (col, delay)
        elif re.match(r"^WATERMARK\b", item, re.I):
            raise ProgrammingError("expected WATERMARK FOR col AS col - INTERVAL '...'",
                                   SYNTAX_ERROR)
        elif (g := _PROCTIME.match(item)) is not None:
            plain.append(g.group(1))
            proctime.append(_unquote(g.group(1).split()[0]))
        else:
            plain.append(item)
    columns, pk = _parse_columns(name, plain)
    for col in columns:
        if col.name in proctime and col.type != T.TIMESTAMPTZ:
            raise ProgrammingError(f'column "{col.name}" AS PROCTIME() must be timestamptz, '
                                   f"not {col.type}", "42804")
    if watermark is not None and not any(c.name == watermark[0] for c in columns):
        raise ProgrammingError(f'column "{watermark[0]}" named in WATERMARK does not exist',
                               "42703")
    return SourceDef(kind, name, bool(m.group(2)), columns, options, fmt, encode,
                     encode_options, watermark, pk, proctime)


def _parse_columns(name: str, items: list[str]) -> tuple[list[SourceColumn], list[str]]:
    if not items:
        return [], []
    tree = parse(f"CREATE TABLE t ({', '.join(items)})")
    assert isinstance(tree, exp.Create)
    cols: list[SourceColumn] = []
    pk: list[str] = []
    for item in tree.this.expressions:
        if isinstance(item, exp.ColumnDef):
            cname = item.this.name
            if any(c.name == cname for c in cols):
                raise ProgrammingError(f'column "{cname}" specified more than once',
                                       DUPLICATE_COLUMN)
            kind = item.args.get("kind")
            if kind is None:
                raise ProgrammingError(f'column "{cname}" has no type', SYNTAX_ERROR)
            col = SourceColumn(cname, column_type(kind))
            for cons in item.args.get("constraints") or []:
                if isinstance(cons.args.get("kind"), exp.PrimaryKeyColumnConstraint):
                    col.primary_key = True
                    pk.append(cname)
            cols.append(col)
        elif isinstance(item, exp.PrimaryKey):
            pk = [e.name for e in item.expressions]
        else:
            raise not_supported(f"{item.key} in the column list of {name}")
    return cols, pk


def column_type(node: Any) -> T.DataType:
    """A sqlglot DataType node -> the engine's type."""
    if node.this == exp.DataType.Type.DECIMAL and node.expressions:
        params = [int(p.this.this) for p in node.expressions]
        return T.numeric(params[0], params[1] if len(params) > 1 else 0)
    base = node.copy()
    base.set("expressions", [])
    tname = base.sql(dialect="postgres").lower()
    t = T.type_from_name(tname)
    if t is None:
        raise not_supported(f"type {node.sql(dialect='postgres')}")
    return t


def parse_alter_rate_limit(text: str) -> tuple[str, int | None] | None:
    """`ALTER SOURCE|TABLE name SET source_rate_limit = n | DEFAULT` -> (name, n or None)."""
    m = re.match(r"^\s*ALTER\s+(?:SOURCE|TABLE)\s+(\"[^\"]+\"|[\w.]+)\s+SET\s+"
                 r"source_rate_limit\s*(?:=|TO)\s*(\S+?)\s*;?\s*$", text, re.I | re.S)
    if m is None:
        return None
    value = m.group(2).strip("'")
    if value.upper() == "DEFAULT":
        return _unquote(m.group(1)), None
    try:
        n = int(value)
    except ValueError:
        raise ProgrammingError(f"invalid value for source_rate_limit: {value}",
                               "22023") from None
    if n < 0:
        raise ProgrammingError("source_rate_limit must be >= 0", "22023")
    return _unquote(m.group(1)), n
