"""Name scopes of the binder: the columns an expression can see, the context that
resolves them, and binding of scalar expressions and predicates over a scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlglot import exp

from planner import expressions as X
from planner import types as T
from planner.binder_helpers import is_agg
from planner.errors import (AMBIGUOUS_COLUMN, GROUPING_ERROR, UNDEFINED_COLUMN, ProgrammingError,
                            not_supported)
from planner.logical import LogicalNode


def position_of(node: exp.Expression | None) -> int | None:
    """1-based character offset of a node in the statement, when sqlglot recorded it."""
    while node is not None:
        meta = getattr(node, "_meta", None) or {}
        if "start" in meta:
            return int(meta["start"]) + 1
        node = node.find(exp.Identifier) if not isinstance(node, exp.Identifier) else None
    return None


@dataclass
class ScopeColumn:
    table: str | None
    name: str
    index: int
    type: T.DataType


class Scope:
    """Columns visible to expressions: each carries its position in the input row."""

    def __init__(self, columns: list[ScopeColumn]) -> None:
        self.columns = columns

    @staticmethod
    def of(plan: LogicalNode, alias: str | None, offset: int = 0) -> Scope:
        return Scope([ScopeColumn(alias, f.name, offset + i, f.type)
                      for i, f in enumerate(plan.schema)])

    def __add__(self, other: Scope) -> Scope:
        return Scope(self.columns + other.columns)

    def shifted(self, by: int) -> Scope:
        return Scope([ScopeColumn(c.table, c.name, c.index + by, c.type) for c in self.columns])

    def lookup(self, col: exp.Column) -> ScopeColumn | None:
        name, table = col.name, col.table
        hits = [c for c in self.columns
                if c.name == name and (not table or c.table == table)]
        if not hits:
            return None
        if len(hits) > 1 and len({c.index for c in hits}) > 1:
            raise ProgrammingError(f'column reference "{name}" is ambiguous', AMBIGUOUS_COLUMN,
                                   position_of(col))
        return hits[0]

    def tables(self) -> list[str]:
        return list(dict.fromkeys(c.table for c in self.columns if c.table))


class Ctx:
    """BindContext for planner.expressions: resolves columns through a Scope and
    substitutes pre-planned nodes (group keys, aggregates) with input references."""

    def __init__(self, scope: Scope, special: Callable[[exp.Expression], Any] | None = None,
                 allow_agg: bool = False, clause: str = "") -> None:
        self.scope = scope
        self.special = special
        self.clause = clause

    def resolve(self, node: exp.Expression) -> Any:
        if self.special is not None:
            hit = self.special(node)
            if hit is not None:
                return hit
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            c = self.scope.lookup(node)
            if c is None:
                name = f"{node.table}.{node.name}" if node.table else node.name
                raise ProgrammingError(f'column "{name}" does not exist', UNDEFINED_COLUMN,
                                       position_of(node))
            return X.InputRef(c.index, c.type, c.name)
        if is_agg(node):
            raise ProgrammingError(f"aggregate functions are not allowed in {self.clause or 'this context'}",
                                   GROUPING_ERROR, position_of(node))
        if isinstance(node, exp.Window):
            raise not_supported("window function in this position", position_of(node))
        if isinstance(node, (exp.Subquery, exp.Exists)) or (
                isinstance(node, exp.In) and node.args.get("query") is not None):
            raise not_supported("subquery in this position (use it as a WHERE conjunct)",
                                position_of(node))
        return None


def bind_scalar(node: exp.Expression, scope: Scope, clause: str = "",
                special: Callable[[exp.Expression], Any] | None = None) -> Any:
    return X.fold_constants(X.bind_expr(node, Ctx(scope, special, clause=clause)))


def bind_predicate(node: exp.Expression, scope: Scope, clause: str,
                   special: Callable[[exp.Expression], Any] | None = None) -> Any:
    """A WHERE / ON / HAVING condition; as in PostgreSQL it must be boolean
    (`WHERE v` on an integer column is error 42804, not a truthiness test)."""
    bound = bind_scalar(node, scope, clause, special)
    if bound.type != T.BOOLEAN and not (
            isinstance(bound, X.Literal) and (bound.value is None or bound.untyped)):
        raise ProgrammingError(f"argument of {clause} must be type boolean, not type "
                               f"{bound.type}", "42804", position_of(node))
    return bound
