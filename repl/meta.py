"""The backslash commands that describe the database: `\\d`, `\\dt`, `\\dm`, `\\ds`,
`\\df` and `\\d name`, laid out the way psql lays them out (title, table, footers)."""

from __future__ import annotations

import fnmatch

from repl.backend import RelationMeta
from repl.completion import Catalog
from repl.sqlwords import FUNCTIONS
from sqlstream.format import format_table

HELP = """\
General
  \\q                     quit (or Ctrl-D)
  \\?                     show this help

Informational
  \\d                     list tables, materialized views and sources
  \\d NAME                describe a relation: columns, types, key, definition
  \\dt, \\dm, \\ds          list tables, materialized views, sources
  \\dS                    list system tables (schema sys)
  \\df                    list functions

Formatting
  \\x [on|off|auto]       expanded output
  \\timing [on|off]       show how long each statement takes
  \\pset null TEXT        how NULL is shown
  \\set VERBOSITY verbose show SQLSTATE codes in errors (default: terse)

Input/Output
  \\i FILE                run the statements (and commands) in FILE
  \\o [FILE]              send results to FILE (no FILE: back to the screen)
  \\watch [SEC] [c=N]     re-run the last query every SEC seconds (default 2) until Ctrl-C

Ctrl-C cancels the running statement; statements run when they end with ';'.
"""

_KIND_TITLE = {"table": "Table", "materialized view": "Materialized view",
               "source": "Source", "view": "View", "system table": "System table"}


def list_relations(catalog: Catalog, kinds: tuple[str, ...] | None, system: bool = False,
                   pattern: str | None = None) -> tuple[str, bool]:
    """`\\d`-style listing; returns (text, found)."""
    rows: list[list[str]] = []
    for rel in sorted(catalog.relations, key=lambda r: (r.schema, r.name)):
        if kinds is not None and rel.kind not in kinds:
            continue
        if (rel.schema == "sys") != system and pattern is None:
            continue
        if pattern is not None and not (fnmatch.fnmatchcase(rel.name, pattern)
                                        or fnmatch.fnmatchcase(rel.qualified, pattern)):
            continue
        rows.append([rel.schema, rel.name, rel.kind])
    if not rows:
        return "Did not find any relations.\n", False
    footer = "(1 row)" if len(rows) == 1 else f"({len(rows)} rows)"
    return format_table(["Schema", "Name", "Type"], rows, title="List of relations",
                        footer=footer) + "\n", True


def describe_relation(rel: RelationMeta) -> str:
    """`\\d name`: columns with types and nullability, the key, a view's definition."""
    title = f'{_KIND_TITLE.get(rel.kind, rel.kind.capitalize())} "{rel.qualified}"'
    rows = [[c.name, c.type, "" if c.nullable else "not null"] for c in rel.columns]
    text = format_table(["Column", "Type", "Nullable"], rows, title=title)
    if rel.primary_key:
        text += "Primary key: (" + ", ".join(rel.primary_key) + ")\n"
    if rel.definition:
        label = "Definition" if rel.kind == "source" else "View definition"
        text += f"{label}:\n" + "\n".join(" " + line for line in
                                          rel.definition.strip().splitlines()) + "\n"
    return text + "\n"


def describe(catalog: Catalog, name: str) -> tuple[str, bool]:
    """`\\d NAME` (or a pattern with `*`); returns (text, found)."""
    if "*" in name or "?" in name:
        return list_relations(catalog, None, pattern=name)
    rel = catalog.find(name)
    if rel is None:
        return f'Did not find any relation named "{name}".\n', False
    return describe_relation(rel), True


def list_functions(pattern: str | None = None) -> str:
    rows = [[name, kind, args, what] for name, kind, args, what in FUNCTIONS
            if pattern is None or fnmatch.fnmatchcase(name, pattern)]
    footer = "(1 row)" if len(rows) == 1 else f"({len(rows)} rows)"
    return format_table(["Name", "Kind", "Arguments", "Description"], rows,
                        title="List of functions", footer=footer) + "\n"
