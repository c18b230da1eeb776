"""`UNION [ALL] CORRESPONDING [BY (c, ...)]`: the SQL standard's union by column name.

The operands are matched by name, not position: without BY, the result has the
columns whose names both operands have, in the left operand's order; with BY, the
listed columns in the listed order. sqlglot carries it as a union with
`by_name=True, kind='INNER'` and the BY list in `on`. DuckDB's `UNION BY NAME`
(every column of either side, NULL-padded) is another operation and is refused.

The view path binds each operand and projects the chosen columns
(`corresponding_positions`); the batch path rewrites the syntax tree into a
positional union over those columns (`rewrite_corresponding`)."""

from __future__ import annotations

import re
from typing import Callable

from sqlglot import exp

from planner.binder_helpers import output_name
from planner.errors import (AMBIGUOUS_COLUMN, DUPLICATE_COLUMN, SYNTAX_ERROR,
                            UNDEFINED_COLUMN, ProgrammingError, not_supported)
from planner.expressions.binder import position_of


_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")

ColumnsOf = Callable[[str], "list[str] | None"]


def is_by_name(q: exp.Expression) -> bool:
    return isinstance(q, exp.SetOperation) and bool(q.args.get("by_name"))


def corresponding_positions(q: exp.SetOperation, left: list[str],
                            right: list[str]) -> tuple[list[int], list[int]]:
    """For a CORRESPONDING set operation over operands with these output column names:
    the left and right positions of the result's columns, in result order."""
    if str(q.args.get("kind") or "").upper() != "INNER":
        raise not_supported(f"{q.key.upper()} BY NAME (use CORRESPONDING)", position_of(q))
    by = [c.name for c in q.args.get("on") or []]
    if by:
        if len(set(by)) != len(by):
            raise ProgrammingError("a column is named twice in CORRESPONDING BY",
                                   DUPLICATE_COLUMN, position_of(q))
        names = by
        for n in names:
            if n not in left or n not in right:
                raise ProgrammingError(f'column "{n}" of CORRESPONDING BY is not in both '
                                       "operands", UNDEFINED_COLUMN, position_of(q))
    else:
        names = [n for n in dict.fromkeys(left) if n in right]
        if not names:
            raise ProgrammingError("the operands of CORRESPONDING have no column name in "
                                   "common", SYNTAX_ERROR, position_of(q))
    for side in (left, right):
        for n in names:
            if side.count(n) > 1:
                raise ProgrammingError(f'column "{n}" of CORRESPONDING is ambiguous: an '
                                       "operand has two columns of that name",
                                       AMBIGUOUS_COLUMN, position_of(q))
    return [left.index(n) for n in names], [right.index(n) for n in names]


def _output_names(q: exp.Expression, columns_of: ColumnsOf) -> list[str] | None:
    """The output column names of a query operand, when the query text (and, for
    `SELECT *` over one relation, the catalog) tells them."""
    if isinstance(q, (exp.Subquery, exp.SetOperation)):
        return _output_names(q.this, columns_of)
    if not isinstance(q, exp.Select):
        return None
    names: list[str] = []
    for e in q.expressions:
        if isinstance(e, exp.Star) or isinstance(e, exp.Column) and e.is_star:
            source = q.args.get("from_")
            table = source.this if source is not None else None
            if q.args.get("joins") or not isinstance(table, exp.Table) or not table.name:
                return None
            db = table.db
            cols = columns_of(f"{db}.{table.name}" if db and db != "public" else table.name)
            if cols is None:
                return None
            names += cols
        else:
            names.append(output_name(e))
    return names


def rewrite_corresponding(tree: exp.Expression, columns_of: ColumnsOf) -> exp.Expression:
    """`tree` with every CORRESPONDING union made a positional union of its operands'
    chosen columns: `SELECT c, ... FROM (operand) AS _cl` on each side. `columns_of`
    gives a relation's visible column names (None: unknown)."""
    ops = [q for q in tree.find_all(exp.SetOperation) if is_by_name(q)]
    if not ops:
        return tree
    ctes = {c.alias for c in tree.find_all(exp.CTE)}

    def known(name: str) -> list[str] | None:  # a CTE's columns are not the catalog's
        return None if name in ctes else columns_of(name)

    for q in reversed(ops):  # found top-down; rewritten bottom-up
        left, right = _output_names(q.this, known), _output_names(q.expression, known)
        if left is None or right is None:
            raise not_supported("CORRESPONDING in a batch query over an operand whose "
                                "column names are not known before it runs (SELECT * "
                                "over a join or a common table expression)", position_of(q))
        lpos, rpos = corresponding_positions(q, left, right)
        q.set("this", _pick(q.this, [left[i] for i in lpos], "_cl"))
        q.set("expression", _pick(q.expression, [right[i] for i in rpos], "_cr"))
        q.set("by_name", None)
        q.set("kind", None)
        q.set("on", None)
    return tree


def _pick(operand: exp.Expression, names: list[str], alias: str) -> exp.Select:
    inner = operand.this if isinstance(operand, exp.Subquery) else operand
    source = exp.Subquery(this=inner.copy(), alias=exp.TableAlias(this=exp.to_identifier(alias)))
    cols = [exp.column(exp.to_identifier(n, quoted=not _PLAIN.fullmatch(n))) for n in names]
    return exp.select(*cols).from_(source)
