"""sqlglot scalar expression -> bound expression, with PostgreSQL's typing rules.

The query binder hands us each scalar expression with a BindContext that resolves
columns, planned aggregates, subqueries and parameters; everything else is bound here.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Protocol

from sqlglot import exp

from planner.errors import (INVALID_PARAMETER, INVALID_TEXT, SYNTAX_ERROR, UNDEFINED_COLUMN,
                            DataError, ProgrammingError, not_supported)
from planner.expressions import builtins_time as bt
from planner.expressions import operators as ops
from planner.expressions.nodes import BoundExpr, Call, Literal
from planner.types import (BOOLEAN, DECIMAL, INT32, INT64, INTERVAL, UNKNOWN, VARCHAR,
                           DataType, numeric, parse_interval, type_from_name)


class BindContext(Protocol):
    def resolve(self, node: exp.Expression) -> BoundExpr | None:
        """A bound expression for nodes the query binder owns (columns, aggregates,
        subqueries, parameters), or None to let the expression binder bind it."""
        ...


def position_of(node: exp.Expression) -> int | None:
    """1-based character offset of the node's first token, when the parser recorded it."""
    best: int | None = None
    for n in node.walk():
        meta = getattr(n, "_meta", None)
        if meta and "start" in meta:
            s = meta["start"]
            best = s if best is None else min(best, s)
    return best + 1 if best is not None else None


def sql_type(node: exp.DataType) -> DataType:
    """The sqlstream type for a sqlglot DataType node."""
    params = [p.this.this if isinstance(p.this, exp.Literal) else None
              for p in node.expressions if isinstance(p, exp.DataTypeParam)]
    text = node.sql(dialect="postgres").split("(")[0].strip().lower()
    t = type_from_name({"double precision": "double", "timestamptz": "timestamptz"}.get(
        text, text))
    if t is None:
        raise ProgrammingError(f'type "{text}" does not exist', "42704", position_of(node))
    if t.name == "numeric" and params:
        return numeric(int(params[0]), int(params[1]) if len(params) > 1 else 0)
    return t


def bind_number(text: str) -> Literal:
    """Integer literals are integer, then bigint, then numeric; others numeric."""
    if text.isdigit():
        v = int(text)
        if v < 1 << 31:
            return Literal(v, INT32)
        if v < 1 << 63:
            return Literal(v, INT64)
        return Literal(decimal.Decimal(v), DECIMAL)
    try:
        return Literal(decimal.Decimal(text), DECIMAL)
    except decimal.InvalidOperation:
        raise DataError(f'invalid input syntax for type numeric: "{text}"',
                        INVALID_TEXT) from None


_ARITH = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}
_COMPARE = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">",
            exp.GTE: ">="}
_SIMPLE_FUNCS: dict[type, tuple[str, tuple[str, ...]]] = {
    exp.Upper: ("upper", ("this",)), exp.Lower: ("lower", ("this",)),
    exp.Length: ("length", ("this",)), exp.Reverse: ("reverse", ("this",)),
    exp.Initcap: ("initcap", ("this",)), exp.MD5: ("md5", ("this",)),
    exp.Substring: ("substr", ("this", "start", "length")),
    exp.StrPosition: ("strpos", ("this", "substr")),
    exp.Replace: ("replace", ("this", "expression", "replacement")),
    exp.SplitPart: ("split_part", ("this", "delimiter", "part_index")),
    exp.Left: ("left", ("this", "expression")), exp.Right: ("right", ("this", "expression")),
    exp.Repeat: ("repeat", ("this", "times")),
    exp.StartsWith: ("starts_with", ("this", "expression")),
    exp.Abs: ("abs", ("this",)), exp.Round: ("round", ("this", "decimals")),
    exp.Trunc: ("trunc", ("this", "decimals")), exp.Floor: ("floor", ("this",)),
    exp.Ceil: ("ceil", ("this",)), exp.Sign: ("sign", ("this",)),
    exp.Sqrt: ("sqrt", ("this",)), exp.Cbrt: ("cbrt", ("this",)),
    exp.Exp: ("exp", ("this",)), exp.Ln: ("ln", ("this",)),
    exp.Pi: ("pi", ()),
    exp.Sin: ("sin", ("this",)), exp.Cos: ("cos", ("this",)), exp.Tan: ("tan", ("this",)),
    exp.Cot: ("cot", ("this",)), exp.Asin: ("asin", ("this",)), exp.Acos: ("acos", ("this",)),
    exp.Atan: ("atan", ("this",)), exp.Atan2: ("atan2", ("this", "expression")),
    exp.Sinh: ("sinh", ("this",)), exp.Cosh: ("cosh", ("this",)),
    exp.Tanh: ("tanh", ("this",)), exp.Asinh: ("asinh", ("this",)),
    exp.Acosh: ("acosh", ("this",)), exp.Atanh: ("atanh", ("this",)),
    exp.Degrees: ("degrees", ("this",)), exp.Radians: ("radians", ("this",)),
    exp.Ascii: ("ascii", ("this",)), exp.BitLength: ("bit_length", ("this",)),
    exp.Hex: ("to_hex", ("this",)), exp.LowerHex: ("to_hex", ("this",)),
    exp.Translate: ("translate", ("this", "from_", "to")),
    exp.RegexpReplace: ("regexp_replace", ("this", "expression", "replacement", "position",
                                           "occurrence", "modifiers")),
    exp.RegexpCount: ("regexp_count", ("this", "expression")),
    exp.Factorial: ("factorial", ("this",)),
    exp.WidthBucket: ("width_bucket", ("this", "min_value", "max_value", "num_buckets")),
    exp.Encode: ("encode", ("this", "charset")), exp.Decode: ("decode", ("this", "charset")),
    exp.UnixToTime: ("to_timestamp", ("this",)),
    exp.TimestampFromParts: ("make_timestamp", ("year", "month", "day", "hour", "min", "sec")),
    exp.TimeFromParts: ("make_time", ("hour", "min", "sec")),
    exp.Overlay: ("overlay", ("this", "expression", "from_", "for_")),
}
_UNSUPPORTED: dict[type, str] = {
    exp.Window: "window function in this position",
    exp.Subquery: "subquery in this position", exp.Exists: "EXISTS in this position",
    exp.AggFunc: "aggregate function in this position",
    exp.CurrentTimestamp: "now()/current_timestamp", exp.CurrentDate: "current_date",
    exp.CurrentTime: "current_time", exp.Array: "ARRAY", exp.Any: "ANY/SOME",
    exp.All: "ALL",
}


class _Binder:
    def __init__(self, ctx: BindContext) -> None:
        self.ctx = ctx

    def bind(self, node: exp.Expression) -> BoundExpr:
        resolved = self.ctx.resolve(node)
        if resolved is not None:
            return resolved
        pos = position_of(node)
        for cls, fn in _DISPATCH:
            if isinstance(node, cls):
                return fn(self, node, pos)
        if type(node) in _SIMPLE_FUNCS:
            name, keys = _SIMPLE_FUNCS[type(node)]
            args = [node.args.get(k) for k in keys]
            bound = [self.bind(a) for a in args if a is not None]
            return ops.bind_function(name, bound, pos)
        for cls, what in _UNSUPPORTED.items():
            if isinstance(node, cls):
                raise not_supported(what, pos)
        raise not_supported(f"expression {node.sql(dialect='postgres')!r}", pos)

    def args(self, nodes: list[exp.Expression]) -> list[BoundExpr]:
        return [self.bind(n) for n in nodes]

    def const_text(self, node: exp.Expression | None, what: str) -> str:
        """A constant unit/field argument: a keyword or a string literal."""
        if isinstance(node, (exp.Var, exp.Identifier)):
            return str(node.this)
        if isinstance(node, exp.Column) and not node.table:
            return node.name
        if isinstance(node, exp.Literal) and node.is_string:
            return str(node.this)
        raise not_supported(f"non-constant {what}", position_of(node) if node else None)


def _column(b: _Binder, node: exp.Column, pos: int | None) -> BoundExpr:
    raise ProgrammingError(f'column "{node.sql(dialect="postgres")}" does not exist',
                           UNDEFINED_COLUMN, pos)


def _literal(b: _Binder, node: exp.Literal, pos: int | None) -> BoundExpr:
    if node.is_string:
        return Literal(str(node.this), VARCHAR, untyped=True)
    try:
        return bind_number(str(node.this))
    except DataError as e:
        e.position = pos
        raise


def _neg(b: _Binder, node: exp.Neg, pos: int | None) -> BoundExpr:
    inner = node.this
    if isinstance(inner, exp.Literal) and not inner.is_string:
        text = str(inner.this)
        lit = bind_number(text)
        v = -lit.value
        if lit.type is INT64 and v == -(1 << 31):
            return Literal(v, INT32)
        if lit.type is DECIMAL and text.isdigit() and v == -(1 << 63):
            return Literal(int(v), INT64)
        return Literal(v, lit.type)
    return ops.bind_neg(b.bind(inner), pos)


def _binary(b: _Binder, node: exp.Binary, pos: int | None) -> BoundExpr:
    left, right = b.bind(node.this), b.bind(node.expression)
    if type(node) in _ARITH:
        return ops.bind_arith(_ARITH[type(node)], left, right, pos)
    if type(node) in _COMPARE:
        return ops.bind_compare(_COMPARE[type(node)], left, right, pos)
    if isinstance(node, (exp.NullSafeEQ, exp.NullSafeNEQ)):
        cmp = ops.bind_compare("=", left, right, pos)
        assert isinstance(cmp, Call)
        name = "IS NOT DISTINCT FROM" if isinstance(node, exp.NullSafeEQ) else \
            "IS DISTINCT FROM"
        return Call(name, cmp.args, BOOLEAN)
    if isinstance(node, exp.And):
        return ops.bind_logic("AND", [left, right], pos)
    if isinstance(node, exp.Or):
        return ops.bind_logic("OR", [left, right], pos)
    if isinstance(node, exp.DPipe):
        return ops.bind_concat_op(left, right, pos)
    raise not_supported(f"operator {type(node).__name__}", pos)


def _is(b: _Binder, node: exp.Is, pos: int | None) -> BoundExpr:
    arg = b.bind(node.this)
    neg = " NOT" if node.args.get("negate") else ""
    target = node.expression
    if isinstance(target, exp.Null):
        return Call(f"IS{neg} NULL", (arg,), BOOLEAN)
    if isinstance(target, exp.Boolean):
        what = "TRUE" if target.this else "FALSE"
        return Call(f"IS{neg} {what}", (ops.to_boolean(arg, f"IS {what}", pos),), BOOLEAN)
    raise not_supported(f"IS {target.sql()}", pos)


def _not(b: _Binder, node: exp.Not, pos: int | None) -> BoundExpr:
    return ops.bind_logic("NOT", [b.bind(node.this)], pos)


def _in(b: _Binder, node: exp.In, pos: int | None) -> BoundExpr:
    if node.args.get("query") is not None or node.args.get("unnest") is not None:
        raise not_supported("subquery in this position", pos)
    return ops.bind_in(b.bind(node.this), b.args(node.expressions), pos)


def _between(b: _Binder, node: exp.Between, pos: int | None) -> BoundExpr:
    x, lo, hi = b.bind(node.this), b.bind(node.args["low"]), b.bind(node.args["high"])

    def within(low: BoundExpr, high: BoundExpr) -> BoundExpr:
        return ops.bind_logic("AND", [ops.bind_compare(">=", x, low, pos),
                                      ops.bind_compare("<=", x, high, pos)], pos)
    if node.args.get("symmetric"):
        return ops.bind_logic("OR", [within(lo, hi), within(hi, lo)], pos)
    return within(lo, hi)


def _like(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
    escape: BoundExpr = Literal("\\", VARCHAR)
    if isinstance(node, exp.Escape):
        escape = ops.cast(b.bind(node.expression), VARCHAR, pos)
        node = node.this
    name = "ILIKE" if isinstance(node, exp.ILike) else "LIKE"
    if node.args.get("negate"):
        name = "NOT " + name
    s, pattern = b.bind(node.this), b.bind(node.expression)
    if not (s.type.is_string or ops.is_untyped(s)):
        raise ProgrammingError(f"operator does not exist: {s.type} ~~ {pattern.type}",
                               "42883", pos)
    return Call(name, (ops.cast(s, VARCHAR, pos), ops.cast(pattern, VARCHAR, pos), escape),
                BOOLEAN)


def _case(b: _Binder, node: exp.Case, pos: int | None) -> BoundExpr:
    operand = node.this
    whens = []
    for branch in node.args.get("ifs") or []:
        cond = b.bind(branch.this)
        if operand is not None:
            cond = ops.bind_compare("=", b.bind(operand), cond, pos)
        whens.append((cond, b.bind(branch.args["true"])))
    default = node.args.get("default")
    return ops.bind_case(whens, b.bind(default) if default is not None else None, pos)


def _cast(b: _Binder, node: exp.Cast, pos: int | None) -> BoundExpr:
    to = sql_type(node.to)
    arg = b.bind(node.this)
    return ops.cast(arg, to, pos)


def _interval(b: _Binder, node: exp.Interval, pos: int | None) -> BoundExpr:
    this, unit = node.this, node.args.get("unit")
    if not (isinstance(this, exp.Literal)):
        value = b.bind(this)
        if unit is None:
            return ops.cast(value, INTERVAL, pos)
        raise not_supported("INTERVAL with a non-constant value", pos)
    unit_name = None
    if isinstance(unit, exp.Var):
        unit_name = str(unit.this)
    try:
        return Literal(parse_interval(str(this.this), unit_name), INTERVAL)
    except ValueError as e:
        raise DataError(str(e), INVALID_TEXT, pos) from None


def _variadic(name: str) -> Callable[[_Binder, exp.Expression, int | None], BoundExpr]:
    def bind(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
        nodes = [node.this] + list(node.expressions) if node.this is not None else \
            list(node.expressions)
        if node.args.get("expression") is not None:
            nodes.append(node.args["expression"])
        return ops.bind_variadic(name, b.args(nodes), pos)
    return bind


def _trim(b: _Binder, node: exp.Trim, pos: int | None) -> BoundExpr:
    where = str(node.args.get("position") or "BOTH").upper()
    name = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(where, "btrim")
    args = [b.bind(node.this)]
    if node.expression is not None:
        args.append(b.bind(node.expression))
    return ops.bind_function(name, args, pos)


def _pad(b: _Binder, node: exp.Pad, pos: int | None) -> BoundExpr:
    args = [b.bind(node.this), b.bind(node.expression)]
    if node.args.get("fill_pattern") is not None:
        args.append(b.bind(node.args["fill_pattern"]))
    return ops.bind_function("lpad" if node.args.get("is_left") else "rpad", args, pos)


def _concat(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
    args = b.args(list(node.expressions))
    if isinstance(node, exp.ConcatWs):
        return ops.bind_function("concat_ws", args, pos)
    return ops.bind_function("concat", args, pos)


def _log(b: _Binder, node: exp.Log, pos: int | None) -> BoundExpr:
    if node.expression is None:
        return ops.bind_function("log", [b.bind(node.this)], pos)
    base = node.this
    if isinstance(base, exp.Literal) and str(base.this) == "10":
        return ops.bind_function("log10", [b.bind(node.expression)], pos)
    return ops.bind_function("log", [b.bind(base), b.bind(node.expression)], pos)


def _unit_call(name: str, field: str, arg: BoundExpr, pos: int | None) -> BoundExpr:
    unit = bt.normalize_unit(field)
    allowed = bt.EXTRACT_FIELDS if name != "date_trunc" else bt.TRUNC_UNITS
    if unit not in allowed:
        raise DataError(f'unit "{field.lower()}" not recognized', INVALID_PARAMETER, pos)
    return ops.bind_function(name, [Literal(unit, VARCHAR), arg], pos)


def _extract(b: _Binder, node: exp.Extract, pos: int | None) -> BoundExpr:
    return _unit_call("extract", b.const_text(node.this, "extract field"),
                      b.bind(node.expression), pos)


def _date_trunc(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
    return _unit_call("date_trunc", b.const_text(node.args.get("unit"), "date_trunc unit"),
                      b.bind(node.this), pos)


def _quarter(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
    return _unit_call("extract", "quarter", b.bind(node.this), pos)


def _anonymous(b: _Binder, node: exp.Anonymous, pos: int | None) -> BoundExpr:
    name = str(node.this).lower()
    args = list(node.expressions)
    if name in ("date_part", "datepart") and len(args) == 2:
        return _unit_call("date_part", b.const_text(args[0], "date_part field"),
                          b.bind(args[1]), pos)
    if name == "proctime":
        raise not_supported("PROCTIME() outside a source column `col TIMESTAMPTZ AS "
                            "PROCTIME()` or FOR SYSTEM_TIME AS OF", pos)
    if name == "mod" and len(args) == 2:
        return ops.bind_arith("%", b.bind(args[0]), b.bind(args[1]), pos)
    return ops.bind_function(name, b.args(args), pos)


def _pow(b: _Binder, node: exp.Pow, pos: int | None) -> BoundExpr:
    return ops.bind_function("power", [b.bind(node.this), b.bind(node.expression)], pos)


def _mod_func(b: _Binder, node: exp.Mod, pos: int | None) -> BoundExpr:
    return ops.bind_arith("%", b.bind(node.this), b.bind(node.expression), pos)


def _subscript(b: _Binder, node: exp.Bracket, pos: int | None) -> BoundExpr:
    """`(regexp_match(s, pattern))[n]`, the one array subscript there is (no array
    type): bound as regexp_match_at(s, pattern, n)."""
    inner = node.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    index = node.expressions[0] if len(node.expressions) == 1 else None
    if (isinstance(inner, exp.Anonymous) and str(inner.this).lower() == "regexp_match"
            and len(inner.expressions) == 2 and isinstance(index, exp.Literal)
            and not index.is_string and str(index.this).lstrip("-").isdigit()):
        # sqlglot keeps subscripts 0-based; PostgreSQL's are 1-based.
        n = Literal(int(str(index.this)) + 1, INT32)
        return ops.bind_function("regexp_match_at", [*b.args(inner.expressions), n], pos)
    raise not_supported("array subscript (only (regexp_match(...))[n] is)", pos)


def _placeholder(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
    raise ProgrammingError(f"there is no parameter {node.sql()}", "42P02", pos)


def _star(b: _Binder, node: exp.Expression, pos: int | None) -> BoundExpr:
    raise ProgrammingError("* is not allowed in this position", SYNTAX_ERROR, pos)


_DISPATCH: list[tuple[type, Callable[..., BoundExpr]]] = [
    (exp.Column, _column),
    (exp.Paren, lambda b, n, p: b.bind(n.this)),
    (exp.Literal, _literal),
    (exp.Boolean, lambda b, n, p: Literal(bool(n.this), BOOLEAN)),
    (exp.Null, lambda b, n, p: Literal(None, UNKNOWN)),
    (exp.Neg, _neg),
    # div(a, b), which sqlglot reads as an integer division cast to numeric
    (exp.IntDiv, lambda b, n, p: ops.bind_function("div", [b.bind(n.this),
                                                           b.bind(n.expression)], p)),
    (exp.Mod, _mod_func), (exp.Pow, _pow),
    (exp.Is, _is),
    (exp.Escape, _like), (exp.Like, _like), (exp.ILike, _like),
    (exp.Binary, _binary),
    (exp.Not, _not),
    (exp.In, _in),
    (exp.Between, _between),
    (exp.Case, _case),
    (exp.Cast, _cast),
    (exp.Interval, _interval),
    (exp.Coalesce, _variadic("coalesce")),
    (exp.Greatest, _variadic("greatest")),
    (exp.Least, _variadic("least")),
    (exp.Nullif, _variadic("nullif")),
    (exp.Trim, _trim), (exp.Pad, _pad),
    (exp.ConcatWs, _concat), (exp.Concat, _concat),
    (exp.Log, _log), (exp.Extract, _extract),
    (exp.TimestampTrunc, _date_trunc), (exp.DateTrunc, _date_trunc),
    (exp.Quarter, _quarter),
    (exp.Format, lambda b, node, pos: ops.bind_function(
        "format", [b.bind(node.this), *b.args(node.expressions)], pos)),
    (exp.Chr, lambda b, node, pos: ops.bind_function("chr", b.args(node.expressions), pos)),
    (exp.SHA2Digest, lambda b, node, pos: ops.bind_function(
        f"sha{node.args['length'].name}", [b.bind(node.this)], pos)),
    (exp.Anonymous, _anonymous), (exp.Bracket, _subscript),
    (exp.Placeholder, _placeholder), (exp.Parameter, _placeholder),
    (exp.Star, _star),
]


def bind_expr(node: exp.Expression, ctx: BindContext) -> BoundExpr:
    """Bind one scalar expression. A bare string literal or NULL comes out as varchar
    (still marked untyped, so a later cast to a column type applies PostgreSQL's rule)."""
    out = _Binder(ctx).bind(node)
    if isinstance(out, Literal) and out.type is UNKNOWN:
        return Literal(None, VARCHAR, untyped=True)
    return out
