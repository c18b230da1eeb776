"""Compile bound expressions to one Python function per projection/filter.

The generated source is a list comprehension over the chunk's row tuples, e.g.
`[(r[0], (None if r[1] is None else r[1] + 1)) for r in rows]`. NULL checks and simple
operators are inlined; complex ones call helpers bound as globals of the generated code.
Sub-results used twice are kept in walrus temporaries, so each sub-expression runs once.
In streaming mode (strict=False) a helper's data error yields NULL for that expression.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Sequence
from typing import Any

from planner.errors import DataError, InternalError
from planner.expressions import builtins_format as bf
from planner.expressions import builtins_time as bt
from planner.expressions import runtime as rt
from planner.expressions.compile_ops import gen_operator
from planner.expressions.functions import FUNCTIONS, IMPL_BY_ARITY
from planner.expressions.nodes import BoundExpr, Call, Case, Cast, InputRef, Literal
from planner.nan import NAN, NUMERIC_NAN, canonical

_SIMPLE = re.compile(r"^(r\[\d+\]|_[a-z]\d+|-?\d+|None|True|False|'[^'\\]*')$")
_SAFE_CASTS = (float, decimal.Decimal, rt._bool_to_int, rt._to_bool_from_int)


def _safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn with per-row data errors turned into NULL (streaming mode)."""
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except rt.ROW_ERRORS:
            return None
    return call


def _strict(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn with stray Python errors (date overflow, bad values) raised as DataError."""
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except DataError:
            raise
        except (OverflowError, ValueError, ArithmeticError) as e:
            # Python's datetime reports its range limits as Overflow/ValueError.
            text = str(e)
            if "year" in text or "date" in text:
                raise DataError("timestamp out of range", "22008") from None
            code = "22003" if isinstance(e, OverflowError) else "22000"
            raise DataError(text, code) from None
    return call


def _none(*_: Any) -> None:
    return None


class _Gen:
    """Generates Python source for expressions over the row variable `r`."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.ns: dict[str, Any] = {"_nctx": rt.NUMERIC_CTX, "_D": decimal.Decimal,
                                   "_NAN": NAN, "_NNAN": NUMERIC_NAN}
        self._ids: dict[int, str] = {}
        self._n = 0

    # -- names -------------------------------------------------------------
    def const(self, value: Any, prefix: str = "c") -> str:
        key = id(value)
        if key in self._ids and self.ns[self._ids[key]] is value:
            return self._ids[key]
        self._n += 1
        name = f"_{prefix}{self._n}"
        self.ns[name] = value
        self._ids[key] = name
        return name

    def func(self, fn: Callable[..., Any], fallible: bool) -> str:
        if fallible:
            fn = _strict(fn) if self.strict else _safe(fn)
        return self.const(fn, "f")

    def tmp(self) -> str:
        self._n += 1
        return f"_t{self._n}"

    def overflow(self, type_name: str) -> str:
        fn: Callable[[], Any] = _none if not self.strict else (
            lambda: rt.raise_overflow(type_name))
        return self.const(fn, "f")

    # -- code ----------------------------------------------------------------
    def literal(self, v: Any) -> str:
        v = canonical(v)
        if v is None or isinstance(v, bool):
            return repr(v)
        if isinstance(v, int):
            return repr(v)
        if isinstance(v, str) and "\\" not in v and "'" not in v and "\n" not in v:
            return f"'{v}'"
        return self.const(v)

    def guarded(self, args: Sequence[BoundExpr], body: Callable[[list[str]], str],
                nan_propagates: bool = False) -> str:
        """`body` over the argument values, NULL if any argument is NULL. With
        `nan_propagates` (float arithmetic: a NaN in gives a NaN out, which the
        result's own check turns into SQL's NaN) arguments skip that check."""
        atoms: list[str] = []
        checks: list[str] = []
        for a in args:
            if isinstance(a, Literal):
                if a.value is None:
                    return "None"
                atoms.append(self.literal(a.value))
                continue
            code = self.gen(a, sql_nan=not nan_propagates)
            if _SIMPLE.match(code):
                checks.append(f"{code} is None")
                atoms.append(code)
            else:
                t = self.tmp()
                checks.append(f"({t} := {code}) is None")
                atoms.append(t)
        text = body(atoms)
        return f"(None if {' or '.join(checks)} else {text})" if checks else f"({text})"

    def gen_ref(self, e: BoundExpr) -> str:
        """Like gen, but constants become names, so `is` tests on them are well-formed."""
        if isinstance(e, Literal) and e.value is not None and not isinstance(e.value, bool):
            return self.const(canonical(e.value))
        return self.gen(e)

    def bind_once(self, e: BoundExpr) -> tuple[str, str]:
        """(code that evaluates e and keeps it, name to reuse it)."""
        code = self.gen_ref(e)
        if _SIMPLE.match(code):
            return code, code
        t = self.tmp()
        return f"({t} := {code})", t

    def gen(self, e: BoundExpr, sql_nan: bool = True) -> str:
        """Source for `e`; a double or numeric result is SQL's NaN where it is a NaN,
        unless `sql_nan` is false (the caller propagates NaN and checks itself)."""
        if isinstance(e, InputRef):
            return f"r[{e.index}]"
        if isinstance(e, Literal):
            return self.literal(e.value)
        if isinstance(e, Cast):
            code = self.gen_cast(e)
            if sql_nan and e.arg.type.name == "numeric":
                return self.sql_nan(code, e.type.name)
            return code
        if isinstance(e, Case):
            code = self.gen(e.else_)
            for cond, res in reversed(e.whens):
                code = f"({self.gen(res)} if {self.gen_ref(cond)} is True else {code})"
            return code
        if isinstance(e, Call):
            code = self.gen_call(e)
            if not sql_nan or e.name in _PASS_THROUGH:
                return code
            return self.sql_nan(code, e.type.name)
        raise InternalError(f"cannot compile {type(e).__name__}")

    def sql_nan(self, code: str, type_name: str) -> str:
        """`code` with a computed NaN (inf - inf, 0 * inf, functions of NaN) turned into
        the singleton that compares as SQL's NaN (planner/nan.py); other values as is."""
        nan = {"double precision": "_NAN", "real": "_NAN", "numeric": "_NNAN"}.get(type_name)
        if nan is None or _SIMPLE.match(code):
            return code
        t = self.tmp()
        return f"({t} if ({t} := {code}) == {t} else {nan})"

    def gen_cast(self, e: Cast) -> str:
        fn = rt.caster(e.arg.type, e.type)
        if fn is None:
            return self.gen(e.arg)
        fallible = fn not in _SAFE_CASTS
        name = self.func(fn, fallible) if fn is not decimal.Decimal else "_D"
        if fn is float:
            name = "float"
        return self.guarded([e.arg], lambda a: f"{name}({a[0]})")

    def range_checked(self, code: str, type_name: str, nullable: bool = False) -> str:
        """Integer results outside the type's range raise 22003 (NULL when streaming).
        `code` must not yield NULL unless `nullable`."""
        if type_name == "real":
            # real arithmetic done in double precision: a finite result beyond real's
            # range is an overflow (an infinite one came from an infinite input)
            t = self.tmp()
            test = f"not ({rt.REAL_MAX!r} < abs({t} := {code}) < 1e999)"
            if nullable:
                test = f"({t} := {code}) is None or not ({rt.REAL_MAX!r} < abs({t}) < 1e999)"
            return f"({t} if {test} else {self.overflow(type_name)}())"
        if type_name not in rt.INT_BOUNDS:
            return code
        lo, hi = rt.INT_BOUNDS[type_name]
        t = self.tmp()
        test = f"{lo} <= ({t} := {code}) <= {hi}"
        if nullable:
            test = f"({t} := {code}) is None or {lo} <= {t} <= {hi}"
        return f"({t} if {test} else {self.overflow(type_name)}())"

    def gen_call(self, e: Call) -> str:
        special = _SPECIAL.get(e.name)
        if special is not None:
            return special(self, e)
        op = gen_operator(self, e)
        if op is not None:
            return op
        func = FUNCTIONS.get(e.name)
        if func is None:
            raise InternalError(f"no implementation for {e.name}")
        impl = IMPL_BY_ARITY.get(e.name, {}).get(len(e.args), func.impl)
        if func.template is not None:
            template = func.template
            if e.name == "abs":
                return self.guarded(e.args, lambda a: self.range_checked(
                    template.format(*a), e.type.name))
            return self.guarded(e.args, lambda a: template.format(*a))
        assert impl is not None
        name = self.func(impl, func.fallible)
        if not func.null_in_null_out:
            return f"{name}({', '.join(self.gen(a) for a in e.args)})"
        return self.guarded(e.args, lambda a: f"{name}({', '.join(a)})")


# ---------------------------------------------------------------- special forms

def _and_or(g: _Gen, e: Call) -> str:
    dominant, other = ("False", "True") if e.name == "AND" else ("True", "False")
    a_code, a = g.bind_once(e.args[0])
    b_code, b = g.bind_once(e.args[1])
    return (f"({dominant} if {a_code} is {dominant} or {b_code} is {dominant} "
            f"else (None if {a} is None or {b} is None else {other}))")


def _not(g: _Gen, e: Call) -> str:
    return g.guarded(e.args, lambda a: f"not {a[0]}")


_POSTFIX = {"IS NULL": "is None", "IS NOT NULL": "is not None", "IS TRUE": "is True",
            "IS NOT TRUE": "is not True", "IS FALSE": "is False",
            "IS NOT FALSE": "is not False"}


def _postfix(g: _Gen, e: Call) -> str:
    return f"({g.gen_ref(e.args[0])} {_POSTFIX[e.name]})"


def _distinct(g: _Gen, e: Call) -> str:
    name = g.func(rt.is_distinct, False)
    code = f"{name}({g.gen(e.args[0])}, {g.gen(e.args[1])})"
    return code if e.name == "IS DISTINCT FROM" else f"(not {code})"


def _in(g: _Gen, e: Call) -> str:
    x, items = e.args[0], e.args[1:]
    if all(isinstance(i, Literal) for i in items) and x.type.name != "interval":
        values = [canonical(i.value) for i in items  # type: ignore[attr-defined]
                  if i.value is not None]  # type: ignore[attr-defined]
        miss = "None" if len(values) < len(items) else "False"
        name = g.const(frozenset(values))
        return g.guarded([x], lambda a: f"True if {a[0]} in {name} else {miss}")
    fn = g.func(rt.in_list, False)
    return f"{fn}({g.gen(x)}, ({', '.join(g.gen(i) for i in items)},))"


def _coalesce(g: _Gen, e: Call) -> str:
    code = g.gen(e.args[-1])
    for a in reversed(e.args[:-1]):
        first, name = g.bind_once(a)
        code = f"({name} if {first} is not None else {code})"
    return code


def _nullif(g: _Gen, e: Call) -> str:
    a_code, a = g.bind_once(e.args[0])
    b_code, b = g.bind_once(e.args[1])
    eq = f"{a} == {b}"
    if e.args[0].type.name == "interval":
        eq = f"{a}.total_micros() == {b}.total_micros()"
    return f"(None if {a_code} is not None and {b_code} is not None and {eq} else {a})"


def _extremum(g: _Gen, e: Call) -> str:
    fn = g.func(rt.greatest if e.name == "greatest" else rt.least, False)
    return f"{fn}({', '.join(g.gen(a) for a in e.args)})"


def _like(g: _Gen, e: Call) -> str:
    ci = "ILIKE" in e.name
    negate = e.name.startswith("NOT")
    s, pattern, escape = e.args
    if isinstance(pattern, Literal) and isinstance(escape, Literal):
        if pattern.value is None or escape.value is None:
            return "None"
        regex = rt.like_regex(pattern.value, escape.value or None, ci)
        name = g.const(regex)
        test = "is None" if negate else "is not None"
        return g.guarded([s], lambda a: f"{name}.fullmatch({a[0]}) {test}")
    fn = g.func(rt.ilike if ci else rt.like, True)
    neg = "not " if negate else ""
    return g.guarded(e.args, lambda a: f"{neg}{fn}({a[0]}, {a[1]}, {a[2]})")


def _extract(g: _Gen, e: Call) -> str:
    field = e.args[0]
    assert isinstance(field, Literal)
    fn = g.func(bt.extract, True)
    if e.name == "date_part":
        return g.guarded(e.args[1:], lambda a: f"float({fn}({field.value!r}, {a[0]}))")
    return g.guarded(e.args[1:], lambda a: f"{fn}({field.value!r}, {a[0]})")


def _to_char(g: _Gen, e: Call) -> str:
    """A constant pattern made of a timestamp's own fields is one str.format call (one
    date().isoformat() for 'YYYY-MM-DD'), not a walk over the pattern per row."""
    ts, pattern = e.args
    template = None
    if (isinstance(pattern, Literal) and isinstance(pattern.value, str)
            and ts.type.name in ("timestamp", "timestamptz")):
        template = bf.format_template(pattern.value)
    if template == bf.ISO_DATE:
        return g.guarded([ts], lambda a: f"{a[0]}.date().isoformat()")
    if template is not None:
        name = g.const(template)
        return g.guarded([ts], lambda a: f"{name}.format({a[0]})")
    fn = g.func(bf.to_char, False)
    return g.guarded(e.args, lambda a: f"{fn}({a[0]}, {a[1]})")


# Calls whose result is one of their arguments: no new NaN to canonicalize.
_PASS_THROUGH = frozenset({"coalesce", "nullif", "greatest", "least"})

_SPECIAL: dict[str, Callable[[_Gen, Call], str]] = {
    "AND": _and_or, "OR": _and_or, "NOT": _not,
    **{k: _postfix for k in _POSTFIX},
    "IS DISTINCT FROM": _distinct, "IS NOT DISTINCT FROM": _distinct,
    "IN": _in, "coalesce": _coalesce, "nullif": _nullif,
    "greatest": _extremum, "least": _extremum,
    "LIKE": _like, "NOT LIKE": _like, "ILIKE": _like, "NOT ILIKE": _like,
    "extract": _extract, "date_part": _extract, "to_char": _to_char,
}


# ---------------------------------------------------------------- entry points

def _build(src: str, g: _Gen) -> Callable[..., Any]:
    code = compile(src, "<sqlstream-expr>", "exec")
    exec(code, g.ns)  # noqa: S102 - source generated from bound, typed trees only
    fn = g.ns["_compiled"]
    fn.__doc__ = src
    return fn  # type: ignore[no-any-return]


def compile_projection(exprs: Sequence[BoundExpr], strict: bool = False
                       ) -> Callable[[list[tuple]], list[tuple]]:
    """One function mapping a list of row tuples to the list of projected tuples."""
    g = _Gen(strict)
    if all(isinstance(x, InputRef) for x in exprs) and exprs:
        idx = ", ".join(f"r[{x.index}]" for x in exprs)  # type: ignore[attr-defined]
        return _build(f"def _compiled(rows):\n    return [({idx},) for r in rows]\n", g)
    body = ", ".join(g.gen(x) for x in exprs)
    tup = f"({body},)" if exprs else "()"
    return _build(f"def _compiled(rows):\n    return [{tup} for r in rows]\n", g)


def compile_filter(expr: BoundExpr, strict: bool = False
                   ) -> Callable[[list[tuple]], list[bool]]:
    """One function giving, per row, True only where the predicate is TRUE."""
    g = _Gen(strict)
    code = g.gen(expr)
    return _build(f"def _compiled(rows):\n    return [{code} is True for r in rows]\n", g)


def compile_scalar(expr: BoundExpr, strict: bool = False) -> Callable[[tuple], Any]:
    """One function evaluating the expression on a single row tuple."""
    g = _Gen(strict)
    code = g.gen(expr)
    return _build(f"def _compiled(r):\n    return {code}\n", g)

