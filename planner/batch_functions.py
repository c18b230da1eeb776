"""PostgreSQL functions DuckDB lacks, rewritten into DuckDB expressions for batch
queries: to_char(timestamp, pattern) as strftime, regexp_match as a list of
regexp_extract groups (NULL when nothing matches)."""

from __future__ import annotations

from sqlglot import exp

from planner.batch_semantics import INTEGER_DIVISION

from planner.errors import not_supported
from planner.expressions.binder import position_of
from planner.expressions.builtins_format import strftime_format
from planner.expressions.builtins_regex import compiled
from planner.expressions.functions import TRIG_UNARY


def _to_char(call: exp.Anonymous) -> exp.Expression | None:
    args = call.expressions
    if len(args) != 2:
        return None
    pattern = args[1]
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise not_supported("to_char with a non-constant pattern in a SELECT",
                            position_of(call))
    fmt = strftime_format(str(pattern.this))
    if fmt is None:
        raise not_supported(f"to_char pattern {str(pattern.this)!r} in a SELECT",
                            position_of(call))
    return exp.Anonymous(this="strftime", expressions=[args[0].copy(), exp.Literal.string(fmt)])


def _regexp_match(call: exp.Anonymous) -> exp.Expression | None:
    args = call.expressions
    if len(args) != 2:
        return None
    s, pattern = args
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise not_supported("regexp_match with a non-constant pattern in a SELECT",
                            position_of(call))
    groups = compiled(str(pattern.this)).groups
    first = 0 if groups == 0 else 1  # no groups: the array holds the whole match
    items = [exp.Anonymous(this="regexp_extract",
                           expressions=[s.copy(), pattern.copy(), exp.Literal.number(g)])
             for g in range(first, groups + 1)]
    matches = exp.Anonymous(this="regexp_matches", expressions=[s.copy(), pattern.copy()])
    return exp.Case(ifs=[exp.If(this=matches, true=exp.Array(expressions=items))])


_REWRITES = {"to_char": _to_char, "regexp_match": _regexp_match}

# Functions batch queries call in the engine's own implementation, registered in DuckDB
# as `pg_<name>` (sqlstream.batch_builtins): DuckDB lacks them or differs from PostgreSQL
# (asin(2) is NaN there, an error here; to_hex is upper-case there). Name -> (argument
# types, result type) in DuckDB's names.
_DOUBLE1 = (("DOUBLE",), "DOUBLE")
ENGINE_FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    **{name: _DOUBLE1 for name in TRIG_UNARY},
    "atan2": (("DOUBLE", "DOUBLE"), "DOUBLE"), "atan2d": (("DOUBLE", "DOUBLE"), "DOUBLE"),
    "to_hex": (("BIGINT",), "VARCHAR"), "quote_ident": (("VARCHAR",), "VARCHAR"),
    "quote_literal": (("VARCHAR",), "VARCHAR"), "initcap": (("VARCHAR",), "VARCHAR"),
    "quote_nullable": (("VARCHAR",), "VARCHAR"),
    "width_bucket": (("DOUBLE", "DOUBLE", "DOUBLE", "BIGINT"), "INTEGER"),
    "encode": (("BLOB", "VARCHAR"), "VARCHAR"), "decode": (("VARCHAR", "VARCHAR"), "BLOB"),
    **{f"sha{n}": (("BLOB",), "BLOB") for n in (224, 256, 384, 512)},
    "regexp_count": (("VARCHAR", "VARCHAR"), "INTEGER"),
    "div": (("DECIMAL(38,10)", "DECIMAL(38,10)"), "DECIMAL(38,0)"),
    "regexp_replace": (("VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "VARCHAR"),
                       "VARCHAR"),
}
# Functions whose NULL arguments the implementation sees (others: NULL in, NULL out).
ENGINE_NULL_AWARE = ("quote_nullable",)
# Arguments of sqlglot's own nodes for these functions, in the function's order.
_NODE_ARGS = {"width_bucket": ("this", "min_value", "max_value", "num_buckets"),
              "regexp_replace": ("this", "expression", "replacement", "position",
                                 "occurrence", "modifiers"),
              "encode": ("this", "charset"), "decode": ("this", "charset")}
ENGINE_PREFIX = "pg_"
_NODE_NAMES = {"hex": "to_hex", "lower_hex": "to_hex"}


def _format_call(fmt: exp.Expression, args: list[exp.Expression]) -> exp.Expression:
    """format(fmt, args...) as pg_format(fmt, [args as text]): DuckDB's own format
    has another syntax, and a registered function takes a fixed number of arguments."""
    items = exp.Anonymous(this="list_value", expressions=[exp.cast(a, "VARCHAR") for a in args])
    return exp.Anonymous(this=ENGINE_PREFIX + "format",
                         expressions=[fmt, exp.cast(items, "VARCHAR[]")])


def _engine_call(node: exp.Expression) -> exp.Expression | None:
    """A call of one of ENGINE_FUNCTIONS as a call of its DuckDB registration."""
    if isinstance(node, exp.Format):
        return _format_call(node.this, list(node.expressions))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "format" \
            and node.expressions:
        return _format_call(node.expressions[0], list(node.expressions[1:]))
    if isinstance(node, exp.Anonymous):
        name, args = str(node.this).lower(), list(node.expressions)
    elif isinstance(node, exp.IntDiv):  # div(a, b) as sqlglot reads it
        if node.args.get(INTEGER_DIVISION):  # `/` of two integers: DuckDB's own `//`
            return None
        name, args = "div", [node.this, node.expression]
    else:
        name = node.sql_name().lower()
        if isinstance(node, exp.SHA2Digest):
            name = f"sha{node.args['length'].name}"
        name = _NODE_NAMES.get(name, name)
        keys = _NODE_ARGS.get(name, ("this", "expression"))
        args = [node.args[k] for k in keys if isinstance(node.args.get(k), exp.Expression)]
    if name == "regexp_replace":
        args = _regexp_replace_args(node, args)
    sig = ENGINE_FUNCTIONS.get(name)
    if sig is None or len(args) != len(sig[0]):
        return None
    return exp.Anonymous(this=ENGINE_PREFIX + name, expressions=args)


def _regexp_replace_args(node: exp.Expression,
                         args: list[exp.Expression]) -> list[exp.Expression]:
    """All six arguments of regexp_replace(s, pattern, replacement [, start [, N]]
    [, flags]): start 1, N -1 (none given) and flags '' where left out. A fourth
    argument that is a string literal is the flags."""
    fixed, rest = args[:3], args[3:]
    flags = rest.pop() if rest and isinstance(rest[-1], exp.Literal) and rest[-1].is_string \
        else exp.Literal.string("")
    start = rest.pop(0) if rest else exp.Literal.number(1)
    n = rest.pop(0) if rest else exp.Literal.number(-1)
    return [*fixed, start, n, flags]


def rewrite_functions(tree: exp.Expression) -> None:
    """Rewrite, in place, the calls DuckDB does not know; `FOR SYSTEM_TIME AS OF
    PROCTIME()` on a table in a batch query is the table's current contents."""
    for table in tree.find_all(exp.Table):
        version = table.args.get("version")
        if version is not None and isinstance(version.expression, exp.Anonymous) \
                and str(version.expression.this).lower() == "proctime":
            table.set("version", None)
    for call in list(tree.find_all(exp.Anonymous)):
        rewrite = _REWRITES.get(str(call.this).lower())
        if rewrite is not None:
            new = rewrite(call)
            if new is not None:
                call.replace(new)
    # Innermost calls first: a rewritten call takes its (already rewritten) arguments along.
    for func in reversed(list(tree.find_all(exp.Func, exp.IntDiv, bfs=False))):
        if (new := _engine_call(func)) is not None:
            func.replace(new)
            parent = new.parent
            if isinstance(func, exp.IntDiv) and isinstance(parent, exp.Cast) \
                    and parent.to.this == exp.DataType.Type.DECIMAL and not parent.to.expressions:
                parent.replace(new)  # div's result is numeric already (scale 0)
