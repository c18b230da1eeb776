"""Type rules for operators and function calls over bound arguments: which implicit casts
apply and what the result type is (PostgreSQL's rules). No sqlglot here, so the query
binder can build calls directly too."""

from __future__ import annotations

import decimal

from planner import types as T
from planner.errors import (DATATYPE_MISMATCH, INVALID_TEXT, NUMERIC_OUT_OF_RANGE,
                            UNDEFINED_FUNCTION, DataError, ProgrammingError)
from planner.expressions.functions import FUNCTIONS, describe_call, resolve_signature
from planner.expressions.nodes import BoundExpr, Call, Case, Cast, Literal
from planner.expressions.runtime import ROW_ERRORS, castable, caster
from planner.expressions.udf import bind_user_function
from planner.types import (BOOLEAN, DATE, FLOAT64, INT32, INTERVAL, TIMESTAMP, UNKNOWN,
                           VARCHAR, DataType, coerce, common_supertype, to_real)

ARITH_OPS = ("+", "-", "*", "/", "%")
COMPARE_OPS = ("=", "<>", "<", "<=", ">", ">=")


def is_untyped(e: BoundExpr) -> bool:
    """A string literal or NULL whose type is still open."""
    return isinstance(e, Literal) and (e.untyped or e.type.name == "unknown")


def cast(expr: BoundExpr, to: DataType, position: int | None = None) -> BoundExpr:
    """`expr` converted to `to`; constant literals are converted now (strict), so a bad
    string literal fails at bind time with 22P02 as in PostgreSQL."""
    if expr.type == to and not (isinstance(expr, Literal) and expr.untyped):
        return expr
    if isinstance(expr, Literal):
        if expr.value is None:
            return Literal(None, to)
        if expr.type == to:
            return Literal(expr.value, to)
        if expr.untyped or expr.type.name == "varchar":
            try:
                value = coerce(expr.value, to)
                return Literal(to_real(value) if to.name == "real" else value, to)
            except OverflowError as e:
                raise DataError(str(e), NUMERIC_OUT_OF_RANGE, position) from None
            except (ValueError, decimal.InvalidOperation) as e:
                raise DataError(str(e), INVALID_TEXT, position) from None
        if castable(expr.type, to):
            fn = caster(expr.type, to)
            try:
                return Literal(expr.value if fn is None else fn(expr.value), to)
            except ROW_ERRORS:
                return Cast(expr, to)  # fails per row at run time, as written
    if expr.type.name == "unknown":
        return Cast(expr, to)
    if not castable(expr.type, to):
        raise ProgrammingError(f"cannot cast type {expr.type} to {to}", "42846", position)
    if expr.type == to:
        return expr
    return Cast(expr, to)


def _unify(exprs: list[BoundExpr], what: str, position: int | None) -> DataType:
    """The common type of several expressions (CASE branches, IN lists, COALESCE)."""
    typed = [e.type for e in exprs if not is_untyped(e)]
    if not typed:
        return VARCHAR if any(isinstance(e, Literal) and e.value is not None
                              for e in exprs) else UNKNOWN
    out = typed[0]
    for t in typed[1:]:
        st = common_supertype(out, t)
        if st is None or ("varchar" in (out.name, t.name) and out.name != t.name):
            raise ProgrammingError(f"{what} types {out} and {t} cannot be matched",
                                   DATATYPE_MISMATCH, position)
        out = st
    return out


def unify_all(exprs: list[BoundExpr], what: str, position: int | None = None
              ) -> tuple[list[BoundExpr], DataType]:
    t = _unify(exprs, what, position)
    return [cast(e, t, position) for e in exprs], t


def _operator_error(op: str, a: DataType, b: DataType | None, position: int | None
                    ) -> ProgrammingError:
    sig = f"{a} {op} {b}" if b is not None else f"{op} {a}"
    return ProgrammingError(f"operator does not exist: {sig}", UNDEFINED_FUNCTION, position)


def _open_literal_type(op: str, other: DataType) -> DataType:
    """The type an untyped literal takes opposite `other` in arithmetic."""
    if other.name in ("date", "timestamp", "timestamptz", "time") and op in ("+", "-"):
        return INTERVAL
    if other.name == "interval" and op in ("*", "/"):
        return FLOAT64
    return other


def bind_arith(op: str, left: BoundExpr, right: BoundExpr, position: int | None = None
               ) -> BoundExpr:
    """left op right for + - * / % with PostgreSQL's numeric widening and date/time rules."""
    if is_untyped(left) and not is_untyped(right):
        left = cast(left, _open_literal_type(op, right.type), position)
    elif is_untyped(right) and not is_untyped(left):
        right = cast(right, _open_literal_type(op, left.type), position)
    elif is_untyped(left) and is_untyped(right):
        left, right = cast(left, INT32, position), cast(right, INT32, position)
    a, b = left.type, right.type
    if a.is_numeric and b.is_numeric:
        t = common_supertype(a, b)
        assert t is not None
        if t.name == "numeric":  # as in PostgreSQL: numeric(p,s) arithmetic gives plain numeric
            t = T.DECIMAL
        return Call(op, (cast(left, t), cast(right, t)), t)
    names = (a.name, b.name)
    ts = ("timestamp", "timestamptz")
    if op == "+" and b.name == "date" and (a.is_integer or a.name in ("interval", "time")):
        return bind_arith(op, right, left, position)
    if op == "+" and b.name in ts + ("time",) and a.name == "interval":
        return bind_arith(op, right, left, position)
    if op == "*" and b.name == "interval" and a.is_numeric:
        return bind_arith(op, right, left, position)
    if a.name == "date":
        if b.is_integer and op in ("+", "-"):
            return Call(op, (left, cast(right, INT32)), DATE)
        if b.name == "date" and op == "-":
            return Call(op, (left, right), INT32)
        if b.name == "interval" and op in ("+", "-"):
            return Call(op, (cast(left, TIMESTAMP), right), TIMESTAMP)
        if b.name == "time" and op == "+":
            return Call(op, (left, right), TIMESTAMP)
        if b.name in ts and op == "-":
            return bind_arith(op, cast(left, b), right, position)
    if a.name in ts:
        if b.name == "interval" and op in ("+", "-"):
            return Call(op, (left, right), a)
        if (b.name in ts or b.name == "date") and op == "-":
            t = common_supertype(a, b)
            assert t is not None
            return Call(op, (cast(left, t), cast(right, t)), INTERVAL)
    if a.name == "time" and b.name == "time" and op == "-":
        return Call(op, (left, right), INTERVAL)
    if a.name == "time" and b.name == "interval" and op in ("+", "-"):
        return Call(op, (left, right), a)
    if names == ("interval", "interval") and op in ("+", "-"):
        return Call(op, (left, right), INTERVAL)
    if a.name == "interval" and b.is_numeric and op in ("*", "/"):
        return Call(op, (left, right), INTERVAL)
    raise _operator_error(op, a, b, position)


def bind_neg(arg: BoundExpr, position: int | None = None) -> BoundExpr:
    if is_untyped(arg):
        arg = cast(arg, FLOAT64 if arg.value is not None else INT32, position)  # type: ignore[attr-defined]
    if not (arg.type.is_numeric or arg.type.name == "interval"):
        raise _operator_error("-", arg.type, None, position)
    return Call("neg", (arg,), arg.type)


def bind_compare(op: str, left: BoundExpr, right: BoundExpr, position: int | None = None
                 ) -> BoundExpr:
    """Comparison after converting both sides to their common type."""
    if is_untyped(left) and not is_untyped(right):
        left = cast(left, right.type, position)
    elif is_untyped(right) and not is_untyped(left):
        right = cast(right, left.type, position)
    elif is_untyped(left) and is_untyped(right):
        left, right = cast(left, VARCHAR), cast(right, VARCHAR)
    t = common_supertype(left.type, right.type)
    if t is None or (left.type.is_string != right.type.is_string):
        raise _operator_error(op, left.type, right.type, position)
    return Call(op, (cast(left, t), cast(right, t)), BOOLEAN)


def to_boolean(e: BoundExpr, what: str, position: int | None = None) -> BoundExpr:
    """An argument of AND/OR/NOT/WHERE, which must be boolean."""
    if is_untyped(e):
        return cast(e, BOOLEAN, position)
    if e.type != BOOLEAN:
        raise ProgrammingError(f"argument of {what} must be type boolean, not type {e.type}",
                               DATATYPE_MISMATCH, position)
    return e


def bind_logic(op: str, args: list[BoundExpr], position: int | None = None) -> BoundExpr:
    """AND / OR (binary, left-nested) and NOT."""
    bools = [to_boolean(a, op, position) for a in args]
    if op == "NOT":
        return Call("NOT", (bools[0],), BOOLEAN)
    out = bools[0]
    for b in bools[1:]:
        out = Call(op, (out, b), BOOLEAN)
    return out


def bind_in(x: BoundExpr, items: list[BoundExpr], position: int | None = None) -> BoundExpr:
    exprs, _ = unify_all([x, *items], "IN", position)
    return Call("IN", tuple(exprs), BOOLEAN)


def bind_case(whens: list[tuple[BoundExpr, BoundExpr]], else_: BoundExpr | None,
              position: int | None = None) -> BoundExpr:
    results = [r for _, r in whens] + ([else_] if else_ is not None else [])
    cast_results, t = unify_all(results, "CASE", position)
    if t is UNKNOWN:
        t = VARCHAR
        cast_results = [cast(r, t) for r in cast_results]
    conds = [to_boolean(c, "CASE/WHEN", position) for c, _ in whens]
    else_out = cast_results[len(whens)] if else_ is not None else Literal(None, t)
    return Case(tuple(zip(conds, cast_results[:len(whens)])), else_out, t)


def bind_variadic(name: str, args: list[BoundExpr], position: int | None = None
                  ) -> BoundExpr:
    """COALESCE, GREATEST, LEAST, NULLIF: arguments of one common type."""
    exprs, t = unify_all(args, name.upper(), position)
    if t is UNKNOWN:
        t = VARCHAR
        exprs = [cast(e, t) for e in exprs]
    return Call(name, tuple(exprs), t)


def bind_concat_op(left: BoundExpr, right: BoundExpr, position: int | None = None
                   ) -> BoundExpr:
    """a || b: text concatenation, the non-text side converted to text."""
    if not (left.type.is_string or right.type.is_string or is_untyped(left)
            or is_untyped(right)):
        raise _operator_error("||", left.type, right.type, position)
    return Call("||", (cast(left, VARCHAR, position), cast(right, VARCHAR, position)), VARCHAR)


def bind_function(name: str, args: list[BoundExpr], position: int | None = None
                  ) -> BoundExpr:
    """A call of a function from the table, with implicit argument casts."""
    func = FUNCTIONS.get(name)
    types = [a.type for a in args]
    if func is None:
        user = bind_user_function(name, args, position, cast)
        if user is not None:
            return user
        raise ProgrammingError(f"function {describe_call(name, types)} does not exist",
                               UNDEFINED_FUNCTION, position)
    fit = resolve_signature(func, types, [is_untyped(a) for a in args])
    if fit is None:
        raise ProgrammingError(f"function {describe_call(name, types)} does not exist",
                               UNDEFINED_FUNCTION, position,
                               hint="No function matches the given name and argument "
                                    "types. You might need to add explicit type casts.")
    targets, result = fit
    return Call(name, tuple(cast(a, t, position) for a, t in zip(args, targets)), result)
