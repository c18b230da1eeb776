"""PostgreSQL functions whose DuckDB namesake answers differently, rewritten for batch
queries (one entry per function in FUNCTION_REWRITES; see batch_semantics.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from planner.errors import not_supported
from planner.expressions.binder import position_of

if TYPE_CHECKING:
    from planner.batch_semantics import TypeScope

Plan = Callable[[], exp.Expression]


# Errors the rewritten queries raise through DuckDB's error(), with their SQLSTATE.
ERROR_CODES = {"division by zero": "22012", "date field value out of range": "22008",
               "negative substring length not allowed": "22011"}


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _error(message: str) -> exp.Expression:
    return _call("error", exp.Literal.string(message))


def _case(*whens: tuple[exp.Expression, exp.Expression],
          default: exp.Expression | None = None) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens], default=default)


def _pg_year(year: exp.Expression) -> exp.Expression:
    """PostgreSQL's year -1 is 1 BC, which DuckDB calls year 0; there is no year 0."""
    lt = exp.LT(this=year.copy(), expression=exp.Literal.number(0))
    eq = exp.EQ(this=year.copy(), expression=exp.Literal.number(0))
    return _case((lt, exp.Add(this=year.copy(), expression=exp.Literal.number(1))),
                 (eq, _error("date field value out of range")), default=year.copy())


def _make_date(scope: TypeScope, node: exp.Expression) -> Plan | None:
    args = node.expressions if isinstance(node, exp.Anonymous) else None
    if not args or len(args) != 3:
        return None

    def rewrite() -> exp.Expression:
        node.set("expressions", [_pg_year(args[0]), args[1], args[2]])
        return node
    return rewrite


def _make_timestamp(scope: TypeScope, node: exp.Expression) -> Plan | None:
    """make_timestamp[tz](y, m, d, ...): a day past the month's end is an error (DuckDB
    rolls it into the next month); the year as in make_date."""
    args = list(node.expressions) if isinstance(node, exp.Anonymous) else []
    if len(args) < 6:
        return None

    def rewrite() -> exp.Expression:
        year = _pg_year(args[0])
        checked_day = _call("day", _call("make_date", year.copy(), args[1].copy(),
                                         args[2].copy()))
        node.set("expressions", [year, args[1], checked_day, *args[3:]])
        return node
    return rewrite


def _string_to_array(scope: TypeScope, node: exp.Expression) -> Plan | None:
    if not isinstance(node, exp.StringToArray) or node.args.get("null") is not None:
        return None
    s, sep = node.this, node.expression

    def rewrite() -> exp.Expression:
        empty = exp.cast(exp.Array(expressions=[]), "VARCHAR[]")
        return _case(
            (exp.Is(this=s.copy(), expression=exp.Null()), exp.cast(exp.Null(), "VARCHAR[]")),
            (exp.EQ(this=s.copy(), expression=exp.Literal.string("")), empty),
            (exp.Is(this=sep.copy(), expression=exp.Null()),
             _call("string_split", s.copy(), exp.Literal.string(""))),
            (exp.EQ(this=sep.copy(), expression=exp.Literal.string("")),
             exp.Array(expressions=[s.copy()])),
            default=_call("string_split", s.copy(), sep.copy()))
    return rewrite


def _substring(scope: TypeScope, node: exp.Expression) -> Plan | None:
    """substr(s, start[, count]) counts positions before 1 as PostgreSQL does (they
    take up `count` without giving characters); DuckDB counts a negative start from the
    end of the string."""
    if not isinstance(node, exp.Substring) or node.args.get("start") is None:
        return None

    def rewrite() -> exp.Expression:
        start, count = node.args["start"], node.args.get("length")
        first = exp.Greatest(this=start.copy(), expressions=[exp.Literal.number(1)])
        if count is None:
            node.set("start", first)
            return node
        end = exp.Greatest(this=exp.Add(this=start.copy(), expression=count.copy()),
                           expressions=[exp.Literal.number(1)])
        negative = exp.LT(this=count.copy(), expression=exp.Literal.number(0))
        node.set("start", first)
        node.set("length", _case((negative, _error("negative substring length not allowed")),
                                 default=exp.Sub(this=end, expression=first.copy())))
        return node
    return rewrite


def _regexp_matches(scope: TypeScope, node: exp.Expression) -> Plan | None:
    """regexp_matches(s, pattern[, flags]) returns a set of text arrays, one per match
    (all matches with flag g, else the first): the capture groups, or the whole match
    when the pattern has none. A set-returning call, as unnest."""
    args = list(node.expressions) if isinstance(node, exp.Anonymous) else []
    if len(args) not in (2, 3) or not all(isinstance(a, exp.Literal) and a.is_string
                                          for a in args[1:]):
        return None
    from planner.expressions.builtins_regex import compiled

    flags = str(args[2].this) if len(args) == 3 else ""
    if set(flags) - set("gi"):
        raise not_supported(f"regexp_matches flags {flags!r}", position_of(node))
    groups = compiled(str(args[1].this)).groups
    numbers = list(range(1, groups + 1)) or [0]
    options = [exp.Literal.string("i")] if "i" in flags else []

    def rewrite() -> exp.Expression:
        s, pattern = args[0], args[1]
        if "g" in flags:
            lists = [_call("regexp_extract_all", s.copy(), pattern.copy(),
                           exp.Literal.number(g), *[o.copy() for o in options])
                     for g in numbers]
            index = exp.to_identifier("i")
            row = exp.Array(expressions=[exp.Bracket(this=lst.copy(), expressions=[
                exp.column(index)]) for lst in lists])
            each = exp.Lambda(this=row, expressions=[index])
            matches = _call("list_transform", _call("generate_series", exp.Literal.number(1),
                            _call("len", lists[0])), each)
        else:
            first = exp.Array(expressions=[_call("regexp_extract", s.copy(), pattern.copy(),
                                                 exp.Literal.number(g),
                                                 *[o.copy() for o in options])
                                           for g in numbers])
            found = _call("regexp_matches", s.copy(), pattern.copy(),
                          *[o.copy() for o in options])
            matches = _case((found, exp.Array(expressions=[first])),
                            default=exp.cast(exp.Array(expressions=[]), "VARCHAR[][]"))
        return exp.Unnest(expressions=[matches])
    return rewrite


FUNCTION_REWRITES: dict[str, Callable[[TypeScope, exp.Expression], Plan | None]] = {
    "make_date": _make_date, "make_timestamp": _make_timestamp,
    "make_timestamptz": _make_timestamp, "string_to_array": _string_to_array,
    "substring": _substring, "regexp_matches": _regexp_matches,
}
