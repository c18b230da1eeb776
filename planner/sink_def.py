"""Parsing of `CREATE SINK` and `DROP SINK` (RisingWave's syntax):

    CREATE SINK [IF NOT EXISTS] name FROM relation | AS query
        WITH (connector = '...', ...) [FORMAT PLAIN | UPSERT ENCODE JSON [(...)]]
    DROP SINK [IF EXISTS] name [, ...]

The WITH clause is the last top-level `WITH (` of the statement (a query may
start with its own WITH for CTEs, never end with one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from planner.errors import SYNTAX_ERROR, ProgrammingError
from planner.source_def import _matching_paren, _unquote, parse_options, scan_top_level

_HEAD = re.compile(r"^\s*CREATE\s+SINK\s+(IF\s+NOT\s+EXISTS\s+)?(\"[^\"]+\"|\w+)\s+"
                   r"(FROM\s+(\"[^\"]+\"|[\w.]+)\s*|AS\s+)", re.I | re.S)
_FORMAT = re.compile(r"^FORMAT\s+(\w+)(?:\s+ENCODE\s+(\w+))?\s*", re.I | re.S)
_DROP = re.compile(r"^\s*DROP\s+SINK\s+(IF\s+EXISTS\s+)?(.+?)\s*;?\s*$", re.I | re.S)


@dataclass
class SinkDef:
    name: str
    if_not_exists: bool
    query: str  # the SELECT the sink writes (`SELECT * FROM rel` for FROM rel)
    from_relation: str | None
    options: dict[str, str]
    format: str | None = None  # PLAIN | UPSERT
    encode: str | None = None  # JSON
    encode_options: dict[str, str] = field(default_factory=dict)


def _top_level_with(text: str) -> list[int]:
    """Start offsets of `WITH (` outside quotes and parentheses."""
    return [i for i, depth in scan_top_level(text)
            if depth == 0 and text[i:i + 4].upper() == "WITH"
            and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))
            and re.match(r"WITH\s*\(", text[i:], re.I)]


def parse_sink(text: str) -> SinkDef:
    m = _HEAD.match(text)
    if m is None:
        raise ProgrammingError("expected CREATE SINK name FROM relation | AS query WITH (...)",
                               SYNTAX_ERROR, 1)
    body = text[m.end():]
    base = m.end()
    starts = _top_level_with(body)
    if not starts:
        raise ProgrammingError('CREATE SINK needs WITH (connector = \'...\', ...)',
                               SYNTAX_ERROR, len(text))
    w = starts[-1]
    open_paren = body.index("(", w)
    close = _matching_paren(body, open_paren)
    options = parse_options(body[open_paren + 1:close], base + open_paren)
    head = body[:w].strip()
    rest = body[close + 1:].strip().rstrip(";").strip()
    fmt = encode = None
    encode_options: dict[str, str] = {}
    fm = _FORMAT.match(rest)
    if fm:
        fmt = fm.group(1).upper()
        encode = fm.group(2).upper() if fm.group(2) else None
        rest = rest[fm.end():].strip()
        if rest.startswith("("):
            c = _matching_paren(rest, 0)
            encode_options = parse_options(rest[1:c], base)
            rest = rest[c + 1:].strip()
    if rest:
        raise ProgrammingError(f'syntax error at or near "{rest.split()[0]}"', SYNTAX_ERROR,
                               len(text) - len(rest) + 1)
    if "connector" not in options:
        raise ProgrammingError('missing WITH option "connector"', SYNTAX_ERROR, 1)
    from_rel = None
    if m.group(4) is not None:
        if head:
            raise ProgrammingError(f'syntax error at or near "{head.split()[0]}"',
                                   SYNTAX_ERROR, base + 1)
        from_rel = _unquote(m.group(4))
        query = f'SELECT * FROM "{from_rel}"'
    else:
        if not head:
            raise ProgrammingError("CREATE SINK ... AS needs a query", SYNTAX_ERROR, base + 1)
        query = head
    return SinkDef(_unquote(m.group(2)), bool(m.group(1)), query, from_rel, options,
                   fmt, encode, encode_options)


def parse_drop_sink(text: str) -> tuple[list[str], bool] | None:
    """`DROP SINK [IF EXISTS] a, b` -> (names, if_exists); None for another statement."""
    m = _DROP.match(text)
    if m is None:
        return None
    names = [_unquote(n.strip()) for n in m.group(2).split(",") if n.strip()]
    return names, bool(m.group(1))
