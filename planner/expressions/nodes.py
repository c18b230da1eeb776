"""Bound scalar expression trees: typed, name-resolved, ready to fold or compile.

Every node is a frozen dataclass so trees can be compared, hashed and shared between
plans. Operators and functions are all `Call` nodes named by their SQL spelling; the
compiler looks the name up in the function table.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any, Callable

from planner.types import BOOLEAN, DataType, Interval, to_text

# Infix operators, printed as "(a op b)".
INFIX = ("+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">=", "||", "AND", "OR",
         "IS DISTINCT FROM", "IS NOT DISTINCT FROM", "LIKE", "NOT LIKE", "ILIKE",
         "NOT ILIKE")
# Postfix predicates, printed as "(a IS NULL)".
POSTFIX = ("IS NULL", "IS NOT NULL", "IS TRUE", "IS NOT TRUE", "IS FALSE", "IS NOT FALSE")


class BoundExpr:
    """Base of bound expressions. `type` is the SQL result type."""

    type: DataType

    def to_sql(self) -> str:
        raise NotImplementedError

    def children(self) -> tuple[BoundExpr, ...]:
        return ()

    def with_children(self, children: tuple[BoundExpr, ...]) -> BoundExpr:
        """This node over new children (same count and order as `children()`). Every
        node kind with children overrides it, so `transform` reaches every node."""
        if children:
            raise NotImplementedError(f"{type(self).__name__}.with_children")
        return self

    def transform(self, fn: Callable[[BoundExpr], BoundExpr]) -> BoundExpr:
        """The tree rebuilt bottom-up with `fn` applied to every node (children first);
        nodes whose children did not change are kept as they are."""
        kids = self.children()
        node: BoundExpr = self
        if kids:
            new = tuple(k.transform(fn) for k in kids)
            if any(a is not b for a, b in zip(new, kids)):
                node = self.with_children(new)
        return fn(node)

    def input_refs(self) -> list[int]:
        """Input column indices this expression reads, sorted, without duplicates."""
        found: dict[int, None] = {}
        stack: list[BoundExpr] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, InputRef):
                found[node.index] = None
            stack.extend(node.children())
        return sorted(found)

    def __str__(self) -> str:
        return self.to_sql()


@dataclass(frozen=True, slots=True, eq=True)
class InputRef(BoundExpr):
    """Column `index` of the operator's input row."""

    index: int
    type: DataType
    name: str = ""

    def to_sql(self) -> str:
        return self.name or f"${self.index}"


@dataclass(frozen=True, slots=True, eq=True)
class Literal(BoundExpr):
    """A constant. `untyped` marks a string literal whose type is still open: it takes
    the type of the other operand, as PostgreSQL's 'unknown' literals do."""

    value: Any
    type: DataType
    untyped: bool = False

    def to_sql(self) -> str:
        v = self.value
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, decimal.Decimal)) and self.type.is_numeric:
            return to_text(v)
        if isinstance(v, float):
            return f"'{to_text(v)}'::{self.type}" if v != v or v in (
                float("inf"), float("-inf")) else repr(v)
        text = to_text(v).replace("'", "''")
        if isinstance(v, str) and self.type.is_string:
            return f"'{text}'"
        if isinstance(v, (dt.date, dt.time, Interval, bytes)):
            return f"'{text}'::{self.type}"
        return f"'{text}'::{self.type}"


@dataclass(frozen=True, slots=True, eq=True)
class Call(BoundExpr):
    """An operator or function application; `name` keys the function table."""

    name: str
    args: tuple[BoundExpr, ...]
    type: DataType

    def children(self) -> tuple[BoundExpr, ...]:
        return self.args

    def with_children(self, children: tuple[BoundExpr, ...]) -> BoundExpr:
        return Call(self.name, tuple(children), self.type)

    def to_sql(self) -> str:
        a = [x.to_sql() for x in self.args]
        if self.name in INFIX and len(a) == 2:
            return f"({a[0]} {self.name} {a[1]})"
        if self.name in POSTFIX:
            return f"({a[0]} {self.name})"
        if self.name == "NOT":
            return f"(NOT {a[0]})"
        if self.name == "neg":
            return f"(- {a[0]})"
        if self.name in ("IN", "NOT IN"):
            return f"({a[0]} {self.name} ({', '.join(a[1:])}))"
        if self.name in ("LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"):
            return f"({a[0]} {self.name} {a[1]} ESCAPE {a[2]})"
        if self.name == "extract":
            field = self.args[0].value if isinstance(self.args[0], Literal) else a[0]
            return f"extract({str(field).lower()} from {a[1]})"
        return f"{self.name}({', '.join(a)})"


@dataclass(frozen=True, slots=True, eq=True)
class Cast(BoundExpr):
    """Conversion of `arg` to `type` (explicit CAST or implicit coercion)."""

    arg: BoundExpr
    type: DataType

    def children(self) -> tuple[BoundExpr, ...]:
        return (self.arg,)

    def with_children(self, children: tuple[BoundExpr, ...]) -> BoundExpr:
        (arg,) = children
        return Cast(arg, self.type)

    def to_sql(self) -> str:
        return f"CAST({self.arg.to_sql()} AS {self.type})"


@dataclass(frozen=True, slots=True, eq=True)
class Case(BoundExpr):
    """Searched CASE: the first `when` whose condition is TRUE gives the result;
    otherwise `else_` (NULL literal when absent). Branches are evaluated lazily."""

    whens: tuple[tuple[BoundExpr, BoundExpr], ...]
    else_: BoundExpr
    type: DataType

    def children(self) -> tuple[BoundExpr, ...]:
        out: list[BoundExpr] = []
        for cond, res in self.whens:
            out += [cond, res]
        out.append(self.else_)
        return tuple(out)

    def with_children(self, children: tuple[BoundExpr, ...]) -> BoundExpr:
        pairs = tuple((children[i], children[i + 1]) for i in range(0, len(children) - 1, 2))
        return Case(pairs, children[-1], self.type)

    def to_sql(self) -> str:
        parts = ["CASE"]
        for cond, res in self.whens:
            parts.append(f"WHEN {cond.to_sql()} THEN {res.to_sql()}")
        parts.append(f"ELSE {self.else_.to_sql()} END")
        return " ".join(parts)


def is_null_literal(e: BoundExpr) -> bool:
    return isinstance(e, Literal) and e.value is None


TRUE = Literal(True, BOOLEAN)
FALSE = Literal(False, BOOLEAN)
