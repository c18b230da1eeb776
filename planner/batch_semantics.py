"""PostgreSQL semantics for batch queries handed to DuckDB, decided with the operand
types known.

The types come from the streaming expression binder run over each operand, with the
columns of the relations a query reads typed from the catalog (and aggregates typed by
PostgreSQL's rules). Where a type cannot be told (a column of a derived table, a
subquery), the node is left as DuckDB reads it.

The rules, each a PostgreSQL behaviour DuckDB does not have by default:
- `/` on two integers is integer division truncating toward zero; `/` on anything
  else divided by zero is error 22012 (DuckDB gives Infinity).
- a cast to numeric without a typmod keeps the value's digits (not DECIMAL(18,3)).
- real compared with numeric or an integer compares in double precision.
- round(double precision) rounds half to even; so does a cast of a double to an integer.
- LIKE / ILIKE escape with a backslash unless ESCAPE says otherwise.
- SIMILAR TO is a whole-string match of a pattern where % and _ are wildcards.
- an array subscript below 1 is NULL; slice bounds are clamped to the array.
- `x op ANY/SOME/ALL (array)` over a NULL array is NULL.
- greatest/least of intervals compare lengths.
- sum(bigint) is numeric; avg of integers or numeric is numeric (16 fractional digits).
- make_date with a negative year is that year BC (DuckDB counts year 0).
- format() takes %s / %I / %L / %%; string_to_array splits on '' into one element
  and on NULL into characters.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping

from sqlglot import exp

from planner import types as T
from planner.expressions.binder import bind_expr
from planner.expressions.nodes import BoundExpr, InputRef


class _Unknown(Exception):
    """A type the batch translation cannot tell from the query text."""


# Result types of functions the expression binder does not know.
_RESULT_TYPES = {"make_date": T.DATE, "make_timestamp": T.TIMESTAMP,
                 "make_timestamptz": T.TIMESTAMPTZ, "round_even": T.FLOAT64}


class TypeScope:
    """Column types visible in one SELECT, for the expression binder: `alias.column` by
    the alias of a FROM item, `column` when one item has it (or all that have it agree
    on its type), else the enclosing SELECT's (a correlated reference)."""

    def __init__(self, parent: TypeScope | None = None) -> None:
        self.parent = parent
        self.qualified: dict[tuple[str, str], T.DataType | None] = {}
        self.bare: dict[str, T.DataType | None] = {}

    def add(self, alias: str, columns: Mapping[str, T.DataType | None]) -> None:
        for name, t in columns.items():
            self.qualified[(alias, name)] = t
            if name in self.bare and self.bare[name] != t:
                self.bare[name] = None
            else:
                self.bare.setdefault(name, t)

    def column(self, node: exp.Column) -> T.DataType:
        key = (node.table, node.name)
        own = self.qualified if node.table else self.bare
        name = key if node.table else node.name
        if name in own:
            t = own[name]  # type: ignore[index]
        else:
            t = self.parent.column(node) if self.parent is not None else None
        if t is None:
            raise _Unknown(node.sql())
        return t

    def resolve(self, node: exp.Expression) -> BoundExpr | None:
        if isinstance(node, exp.Column):
            return InputRef(0, self.column(node), node.name)
        if isinstance(node, (exp.AggFunc, exp.Window)):
            return InputRef(0, _aggregate_type(self, node), "")
        if isinstance(node, (exp.Subquery, exp.Select, exp.Exists, exp.Star, exp.Dot)):
            raise _Unknown(type(node).__name__)
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _RESULT_TYPES:
            return InputRef(0, _RESULT_TYPES[str(node.this).lower()], "")
        return None

    def type_of(self, node: exp.Expression | None) -> T.DataType | None:
        """The PostgreSQL type of an expression, or None when it cannot be told."""
        if node is None:
            return None
        try:
            return bind_expr(node, self).type
        except Exception:  # noqa: BLE001 - any failure to bind means: type unknown
            return None


Columns = dict[str, "T.DataType | None"]


class Scopes:
    """The TypeScope of every SELECT of a query, built on demand: FROM items that are
    catalog tables (registered by the translation), CTEs and derived tables (typed
    from their own SELECT lists); other FROM items bring columns of unknown type."""

    def __init__(self) -> None:
        self.tables: dict[int, Columns] = {}
        self._scopes: dict[int, TypeScope] = {}
        self._ctes: dict[str, exp.CTE] = {}

    def add_table(self, table: exp.Table, columns: Mapping[str, T.DataType]) -> None:
        self.tables[id(table)] = dict(columns)

    def prepare(self, tree: exp.Expression) -> None:
        self._ctes = {c.alias: c for c in tree.find_all(exp.CTE)}

    def scope_for(self, node: exp.Expression) -> TypeScope:
        select = node if isinstance(node, exp.Select) else node.find_ancestor(exp.Select)
        if select is None:
            return TypeScope()
        scope = self._scopes.get(id(select))
        if scope is None:
            outer = select.parent.find_ancestor(exp.Select) if select.parent else None
            scope = TypeScope(self.scope_for(outer) if outer is not None else None)
            self._scopes[id(select)] = scope
            self._fill(scope, select)
        return scope

    def _fill(self, scope: TypeScope, select: exp.Select) -> None:
        source = select.args.get("from_")
        items = [source.this] if source is not None else []
        items += [j.this for j in select.args.get("joins") or []]
        for item in items:
            alias = item.alias_or_name
            if isinstance(item, exp.Table) and id(item) in self.tables:
                scope.add(alias, self.tables[id(item)])
            elif isinstance(item, exp.Table) and not item.db and item.name in self._ctes:
                scope.add(alias, self.outputs(self._ctes[item.name].this))
            elif isinstance(item, exp.Subquery):
                scope.add(alias, self.outputs(item.this))
            elif isinstance(item, exp.Values) and isinstance(item.args.get("alias"),
                                                             exp.TableAlias):
                names = [c.name for c in item.args["alias"].columns]
                rows = [r.expressions for r in item.expressions if isinstance(r, exp.Tuple)]
                typed = [{TypeScope().type_of(r[i]) for r in rows if i < len(r)}
                         for i in range(len(names))]
                scope.add(alias, {n: t.pop() if len(t) == 1 else None
                                  for n, t in zip(names, typed)})
            else:
                table_alias = item.args.get("alias")
                for c in table_alias.columns if isinstance(table_alias, exp.TableAlias) else []:
                    scope.add(alias, {c.name: None})

    def outputs(self, query: exp.Expression) -> Columns:
        """The output columns of a query and their types (None where unknown)."""
        if isinstance(query, exp.SetOperation):
            left, right = self.outputs(query.this), self.outputs(query.expression)
            return {n: t if list(right.values())[i:i + 1] == [t] else None
                    for i, (n, t) in enumerate(left.items())}
        if not isinstance(query, exp.Select):
            return {}
        scope = self.scope_for(query)
        out: Columns = {}
        for proj in query.expressions:
            if isinstance(proj, exp.Star) or isinstance(proj, exp.Column) \
                    and isinstance(proj.this, exp.Star):
                out.update(scope.bare)
                continue
            out[proj.alias_or_name] = scope.type_of(
                proj.this if isinstance(proj, exp.Alias) else proj)
        return out


def _aggregate_type(scope: TypeScope, node: exp.Expression) -> T.DataType:
    if isinstance(node, exp.Window):
        node = node.this
    if isinstance(node, exp.Count):
        return T.INT64
    if isinstance(node, exp.Anonymous) or not isinstance(node, exp.AggFunc):
        name = node.sql_name().lower() if isinstance(node, exp.Func) else ""
        if name in ("row_number", "rank", "dense_rank", "ntile"):
            return T.INT64
        raise _Unknown(name)
    arg = scope.type_of(node.this)
    if arg is None:
        raise _Unknown(node.sql())
    if isinstance(node, (exp.Min, exp.Max)):
        return arg
    if isinstance(node, exp.Sum):
        if arg.name in ("smallint", "integer"):
            return T.INT64
        return T.DECIMAL if arg.name in ("bigint", "numeric") else arg
    if isinstance(node, exp.Avg):
        return T.FLOAT64 if arg.is_float else T.DECIMAL if arg.is_numeric else _fail(node)
    raise _Unknown(node.sql())


def _fail(node: exp.Expression) -> T.DataType:
    raise _Unknown(node.sql())


def _is_int(t: T.DataType | None) -> bool:
    return t is not None and t.is_integer


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def integer_division(dividend: exp.Expression, divisor: exp.Expression) -> exp.Expression:
    """DuckDB's `//` of two integers, marked so that the rewrite of a user's `div(a, b)`
    call (which sqlglot also reads as `//`) leaves it alone."""
    node = exp.IntDiv(this=dividend, expression=divisor)
    node.set(INTEGER_DIVISION, True)
    return node


INTEGER_DIVISION = "integer"


def _error_if_zero(dividend: exp.Expression, divisor: exp.Expression,
                   value: exp.Expression) -> exp.Expression:
    """Division by zero is an error unless the dividend is NULL (then the result is)."""
    zero = exp.and_(exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
                    exp.Not(this=exp.Is(this=dividend.copy(), expression=exp.Null())))
    return exp.Case(ifs=[exp.If(this=zero, true=_call("error", exp.Literal.string(
        "division by zero")))], default=value)


def _division(scope: TypeScope, node: exp.Div) -> Callable[[], exp.Expression] | None:
    left, right = scope.type_of(node.this), scope.type_of(node.expression)
    if _is_int(left) and _is_int(right):
        return lambda: exp.Paren(this=integer_division(node.this, node.expression))
    if left is not None and right is not None and left.is_numeric and right.is_numeric:
        return lambda: exp.Paren(this=_error_if_zero(node.this, node.expression, exp.Div(
            this=node.this, expression=node.expression)))
    return None


def _round(scope: TypeScope, node: exp.Round) -> Callable[[], exp.Expression] | None:
    if node.args.get("decimals") is not None:
        return None
    t = scope.type_of(node.this)
    if t is None or not t.is_float:
        return None
    return lambda: _call("round_even", node.this, exp.Literal.number(0))


def _cast(scope: TypeScope, node: exp.Cast) -> Callable[[], exp.Expression] | None:
    if node.to.is_type(exp.DataType.Type.DECIMAL) and not node.to.expressions:
        return _cast_to_numeric(scope, node)
    if not node.to.is_type(exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
                           exp.DataType.Type.SMALLINT):
        return None
    t = scope.type_of(node.this)
    if t is None or not t.is_float:
        return None

    def rewrite() -> exp.Expression:
        node.set("this", _call("round_even", node.this, exp.Literal.number(0)))
        return node
    return rewrite


def _cast_to_numeric(scope: TypeScope, node: exp.Cast) -> Callable[[], exp.Expression] | None:
    """A cast to numeric without a typmod keeps the value's digits, where DuckDB's
    default DECIMAL(18,3) would cut them ('1.23e-3'::numeric is 0.00123): a constant
    gets the precision and scale it is written with, an integer scale 0, a numeric
    stays as it is."""
    inner = node.this
    if isinstance(inner, exp.Literal):
        try:
            value = decimal.Decimal(str(inner.this).strip())
        except decimal.InvalidOperation:
            return None
        if not value.is_finite():
            return None
        digits, exponent = len(value.as_tuple().digits), value.as_tuple().exponent
        scale = max(0, -exponent)
        # As narrow as the constant: DuckDB caps a result at 38 digits and then drops
        # fractional digits, so wide operands would cost precision in expressions.
        width = max(digits + max(0, exponent), scale, 1)
        if width > 38:
            return None
        target = f"DECIMAL({width},{scale})"
        plain = exp.Literal.string(format(value, "f")) if inner.is_string \
            else exp.Literal.number(format(value, "f"))
    else:
        plain = inner
        t = scope.type_of(inner)
        if t is None:
            return None
        if t.name == "numeric":
            return lambda: exp.Paren(this=node.this)
        if not t.is_integer:
            return None
        target = "DECIMAL(19,0)" if t.name == "bigint" else "DECIMAL(18,0)"

    def rewrite() -> exp.Expression:
        if plain is not inner:
            node.set("this", plain)
        node.set("to", exp.DataType.build(target, dialect="duckdb"))
        return node
    return rewrite


def _like(scope: TypeScope, node: exp.Expression) -> Callable[[], exp.Expression] | None:
    if isinstance(node.parent, exp.Escape):
        return None
    return lambda: exp.Escape(this=node, expression=exp.Literal.string("\\"))


def similar_to_regex(pattern: str, escape: str | None = "\\") -> str:
    """A SIMILAR TO pattern as a regular expression matched against the whole string.

    >>> similar_to_regex("a%(b|c)_")
    '^(?:a.*(b|c).)$'
    """
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch in "|*+?{}()[]":
            out.append(ch)
        else:
            out.append(re.escape(ch))
        i += 1
    return "^(?:" + "".join(out) + ")$"


def _similar(scope: TypeScope, node: exp.SimilarTo) -> Callable[[], exp.Expression] | None:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return None
    regex = exp.Literal.string(similar_to_regex(str(pattern.this)))
    return lambda: _call("regexp_matches", node.this, regex)


def _subscript(scope: TypeScope, node: exp.Bracket) -> Callable[[], exp.Expression] | None:
    if len(node.expressions) != 1:
        return None
    index = node.expressions[0]
    if isinstance(index, exp.Slice):
        return _slice(scope, node, index)
    if _int_literal(index) is not None:
        # sqlglot keeps a constant subscript 0-based (PostgreSQL's [1] is 0 here).
        if _int_literal(index) >= 0:  # type: ignore[operator]
            return None
        return lambda: _with_index(node, exp.cast(exp.Null(), "BIGINT"))
    if not _is_int(scope.type_of(index)):
        return None
    positive = exp.Case(ifs=[exp.If(this=exp.GTE(this=index.copy(),
                                                 expression=exp.Literal.number(1)),
                                    true=index.copy())])
    return lambda: _with_index(node, positive)


def _slice(scope: TypeScope, node: exp.Bracket,
           bounds: exp.Slice) -> Callable[[], exp.Expression] | None:
    lo, hi = bounds.this, bounds.expression

    def rewrite() -> exp.Expression:
        if lo is not None:
            bounds.set("this", exp.Greatest(this=lo.copy(), expressions=[
                exp.Literal.number(1)]))
        if hi is not None:
            bounds.set("expression", exp.Greatest(this=hi.copy(), expressions=[
                exp.Literal.number(0)]))
        return node
    return rewrite


def _int_literal(node: exp.Expression) -> int | None:
    if isinstance(node, exp.Neg):
        inner = _int_literal(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(str(node.this))
    return None


def _with_index(node: exp.Bracket, index: exp.Expression) -> exp.Expression:
    node.set("expressions", [index])
    return node


def _real_comparison(scope: TypeScope,
                     node: exp.Binary) -> Callable[[], exp.Expression] | None:
    """real compared with numeric or an integer: both as double precision, as
    PostgreSQL resolves it ('1.1'::numeric < '1.1'::real is true); DuckDB compares
    in single precision."""
    left, right = scope.type_of(node.this), scope.type_of(node.expression)
    if left is None or right is None or "real" not in (left.name, right.name) \
            or not (left.is_numeric and right.is_numeric) or left.is_float and right.is_float:
        return None

    def rewrite() -> exp.Expression:
        node.set("this", exp.cast(node.this, "DOUBLE"))
        node.set("expression", exp.cast(node.expression, "DOUBLE"))
        return node
    return rewrite


def _comparison(scope: TypeScope, node: exp.Binary) -> Callable[[], exp.Expression] | None:
    return _quantified(scope, node) or _real_comparison(scope, node)


def _quantified(scope: TypeScope, node: exp.Binary) -> Callable[[], exp.Expression] | None:
    """`x = ANY(arr)` / `x = SOME(arr)` / `x <> ALL(arr)` over an array (not a subquery)."""
    right = node.expression
    if isinstance(right, exp.Anonymous) and str(right.this).lower() == "some" \
            and len(right.expressions) == 1:
        right = exp.Any(this=right.expressions[0])
        node.set("expression", right)
    if not isinstance(right, (exp.Any, exp.All)):
        return None
    array = right.this
    if isinstance(array, (exp.Subquery, exp.Select)):
        return None

    def rewrite() -> exp.Expression:
        is_null = exp.Is(this=array.copy(), expression=exp.Null())
        return exp.Case(ifs=[exp.If(this=is_null, true=exp.cast(exp.Null(), "BOOLEAN"))],
                        default=node)
    return rewrite


def _sum(scope: TypeScope, node: exp.Expression) -> Callable[[], exp.Expression] | None:
    """sum(bigint) is numeric (DuckDB: a 128-bit integer); also as a window function."""
    agg = node.this if isinstance(node, exp.Window) else node
    if not isinstance(agg, exp.Sum) or (isinstance(node, exp.Sum)
                                        and isinstance(node.parent, exp.Window)):
        return None
    t = scope.type_of(agg.this)
    if t is None or t.name != "bigint":
        return None
    return lambda: exp.cast(node, "DECIMAL(38,0)")


_AVG_SCALE = 16  # fractional digits of avg over integers and numeric, as RisingWave
# avg's DuckDB type; printed without padding zeros as unconstrained numeric is.
AVG_DUCKDB_TYPE = f"DECIMAL(38,{_AVG_SCALE})"


def _avg(scope: TypeScope, node: exp.Expression) -> Callable[[], exp.Expression] | None:
    """avg over integers or numeric is numeric with 16 fractional digits, computed
    exactly: the sum scaled to an integer, divided by the count rounding half away
    from zero (DuckDB's own avg is a double)."""
    agg = node.this if isinstance(node, exp.Window) else node
    if not isinstance(agg, exp.Avg) or (isinstance(node, exp.Avg)
                                        and isinstance(node.parent, exp.Window)):
        return None
    t = scope.type_of(agg.this)
    if t is None or not (t.is_integer or t.name == "numeric") or agg.args.get("distinct"):
        return None

    def rewrite() -> exp.Expression:
        def over(f: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Window):
                w = node.copy()
                w.set("this", f)
                return w
            return f
        arg = agg.this
        total = over(exp.Sum(this=arg.copy()))
        count = over(exp.Count(this=arg.copy()))
        scaled = exp.cast(exp.Mul(this=total, expression=exp.Literal.number(
            10 ** _AVG_SCALE)), "HUGEINT")
        twice = exp.Add(this=exp.Mul(this=exp.Literal.number(2), expression=scaled),
                        expression=exp.Mul(this=_call("sign", scaled.copy()),
                                           expression=count))
        quotient = integer_division(exp.Paren(this=twice), exp.Paren(this=exp.Mul(
            this=exp.Literal.number(2), expression=count.copy())))
        unit = exp.cast(exp.Literal.string(f"1e-{_AVG_SCALE}"), AVG_DUCKDB_TYPE)
        return exp.Paren(this=exp.Mul(this=exp.cast(quotient, "DECIMAL(38,0)"),
                                      expression=unit))
    return rewrite


def _interval_extreme(scope: TypeScope,
                      node: exp.Expression) -> Callable[[], exp.Expression] | None:
    """greatest/least of intervals compare their lengths ('99 hours' > '4 days'), as
    min and max do; DuckDB's greatest/least compare field by field."""
    args = [node.this, *node.expressions]
    if not any((t := scope.type_of(a)) is not None and t.name == "interval" for a in args):
        return None
    name = "list_max" if isinstance(node, exp.Greatest) else "list_min"
    return lambda: _call(name, exp.Array(expressions=[node.this, *node.expressions]))


_REWRITES: list[tuple[type | tuple[type, ...], Callable]] = [
    (exp.Div, _division), (exp.Round, _round), (exp.Cast, _cast),
    ((exp.Like, exp.ILike), _like), (exp.SimilarTo, _similar),
    (exp.Bracket, _subscript), ((exp.Greatest, exp.Least), _interval_extreme), ((exp.Sum, exp.Window), _sum), ((exp.Avg, exp.Window), _avg),
    ((exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE), _comparison),
]


def apply_pg_semantics(tree: exp.Expression, scopes: Scopes) -> exp.Expression:
    """Rewrite `tree` in place so DuckDB answers it as PostgreSQL would. Every decision
    is taken on the tree as written (types bound before any rewrite), then applied."""
    from planner.batch_functions_pg import FUNCTION_REWRITES

    scopes.prepare(tree)
    plans: list[Callable[[], exp.Expression]] = []
    targets: list[exp.Expression] = []
    for node in list(tree.walk()):
        rules = [rule for cls, rule in _REWRITES if isinstance(node, cls)]
        if isinstance(node, exp.Func):
            name = (str(node.this).lower() if isinstance(node, exp.Anonymous)
                    else node.sql_name().lower())
            rules += [FUNCTION_REWRITES[name]] if name in FUNCTION_REWRITES else []
        if not rules:
            continue
        scope = scopes.scope_for(node)
        for rule in rules:
            plan = rule(scope, node)
            if plan is not None:
                plans.append(plan)
                targets.append(node)
                break
    # Innermost first: an outer rewrite then wraps its already rewritten operands.
    for node, plan in reversed(list(zip(targets, plans))):
        parent, key, index = node.parent, node.arg_key, node.index
        new = plan()
        if new is node:
            continue
        if parent is None:
            tree = new
        else:
            parent.set(key, new, index)
    return tree
