"""SQL's NaN (planner/nan.py): equal to every NaN, above every number, one object per
type, and what coercion and compiled expressions produce for every NaN."""

from __future__ import annotations

import copy
import decimal
import doctest
import pickle

import pytest

import planner.nan
from planner import types as T
from planner.expressions.compiler import compile_filter, compile_projection
from planner.expressions.nodes import Call, InputRef, Literal
from planner.expressions.operators import bind_arith, bind_compare, cast
from planner.nan import NAN, NUMERIC_NAN, canonical

D = decimal.Decimal
INF = float("inf")


def test_doctests() -> None:
    result = doctest.testmod(planner.nan)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("nan, numbers", [
    (NAN, [-INF, -1, 0, 0.0, -0.0, 1.5, INF]),
    (NUMERIC_NAN, [D("-Infinity"), -1, 0, D("-0.0"), D("2.50"), D("Infinity")])])
def test_nan_is_equal_to_nan_and_above_every_number(nan: object, numbers: list) -> None:
    for x in numbers:
        assert nan > x and x < nan and nan >= x and x <= nan
        assert not (nan < x or x > nan or nan == x or x == nan or nan <= x)
    assert nan == float("nan") and nan == D("NaN") and nan <= nan and nan >= nan
    assert not nan < nan and not nan > nan
    assert max([1, nan, numbers[-1]]) is nan and min([nan, 3]) == 3
    assert len({nan, float("nan"), nan}) == 2  # a stray Python NaN stays apart: hashed by id
    assert len({nan, canonical(float("nan")), canonical(D("NaN"))}) == 1


def test_ne_stays_the_float_test_for_nan() -> None:
    """`v != v` still tells a NaN, as code written for plain floats expects."""
    assert NAN != NAN and NUMERIC_NAN != NUMERIC_NAN
    assert not (1.0 != 1.0)


def test_one_object_after_pickle_and_copy() -> None:
    for nan in (NAN, NUMERIC_NAN):
        assert pickle.loads(pickle.dumps((nan, [nan]), pickle.HIGHEST_PROTOCOL))[0] is nan
        assert pickle.loads(pickle.dumps(nan, 0)) is nan
        assert copy.copy(nan) is nan and copy.deepcopy({1: nan})[1] is nan
        assert type(nan)() is nan


@pytest.mark.parametrize("text", ["NaN", "nan", " NaN ", "-nan"])
def test_coercion_gives_the_singleton(text: str) -> None:
    assert T.coerce(text, T.FLOAT64) is NAN
    assert T.coerce(float(text), T.FLOAT64) is NAN
    assert T.coercer(T.FLOAT64)(float("nan")) is NAN
    assert T.coerce(text, T.DECIMAL) is NUMERIC_NAN
    assert T.coerce(D("NaN"), T.DataType("numeric", 10, 2)) is NUMERIC_NAN
    assert T.coerce(float("nan"), T.DECIMAL) is NUMERIC_NAN
    assert T.coercer(T.FLOAT64)(1.5) == 1.5 and T.coerce("-0", T.FLOAT64) == 0.0


def test_signaling_nan_is_not_numeric_input() -> None:
    with pytest.raises(ValueError):
        T.coerce("sNaN", T.DECIMAL)


def _x(t: T.DataType = T.FLOAT64) -> InputRef:
    return InputRef(0, t)


def test_computed_nan_is_the_singleton() -> None:
    """inf - inf, inf * 0, -NaN and a numeric NaN cast to double give NAN."""
    x = _x()
    exprs = [bind_arith("-", x, x), bind_arith("*", x, Literal(0.0, T.FLOAT64)),
             Call("neg", (x,), T.FLOAT64)]
    out = compile_projection(exprs)([(INF,), (NAN,), (1.5,), (None,)])
    assert out[0][:2] == (NAN, NAN) and out[0][0] is NAN and out[0][1] is NAN
    assert out[1][0] is NAN and out[1][1] is NAN and out[1][2] is NAN
    assert out[2] == (0.0, 0.0, -1.5) and out[3] == (None, None, None)
    n = _x(T.DECIMAL)
    numeric = compile_projection([bind_arith("+", n, Literal(D(1), T.DECIMAL)),
                                  cast(n, T.FLOAT64)])
    assert numeric([(NUMERIC_NAN,)])[0][0] is NUMERIC_NAN
    assert numeric([(NUMERIC_NAN,)])[0][1] is NAN


@pytest.mark.parametrize("op, nan_vs_nan, nan_vs_1, one_vs_nan", [
    ("=", True, False, False), ("<>", False, True, True), ("<", False, False, True),
    ("<=", True, False, True), (">", False, True, False), (">=", True, True, False)])
def test_compiled_comparisons(op: str, nan_vs_nan: bool, nan_vs_1: bool, one_vs_nan: bool
                              ) -> None:
    for t, one in ((T.FLOAT64, 1.0), (T.DECIMAL, D(1))):
        pred = compile_filter(bind_compare(op, InputRef(0, t), InputRef(1, t)))
        other_nan = NAN if t is T.FLOAT64 else NUMERIC_NAN
        assert pred([(other_nan, other_nan), (other_nan, one), (one, other_nan)]) == [
            nan_vs_nan, nan_vs_1, one_vs_nan]


def test_compiled_nan_literal_and_in_list() -> None:
    lit = Literal(float("nan"), T.FLOAT64)  # a literal folded from arithmetic
    assert compile_filter(bind_compare("=", _x(), lit))([(NAN,), (1.0,)]) == [True, False]
    assert compile_filter(bind_compare("<", _x(), lit))([(NAN,), (1.0,)]) == [False, True]
    in_list = Call("IN", (_x(), Literal(1.5, T.FLOAT64), lit), T.BOOLEAN)
    assert compile_filter(in_list)([(NAN,), (1.5,), (2.0,)]) == [True, True, False]
    distinct = Call("IS DISTINCT FROM", (_x(), lit), T.BOOLEAN)
    assert compile_filter(distinct)([(NAN,), (1.0,), (None,)]) == [False, True, True]


def test_nan_divided_by_zero_is_nan() -> None:
    """As in PostgreSQL: 'NaN'::float8 / 0 and 'NaN'::numeric / 0 are NaN, not 22012."""
    for t, nan, zero in ((T.FLOAT64, NAN, 0.0), (T.DECIMAL, NUMERIC_NAN, D(0))):
        f = compile_projection([bind_arith("/", _x(t), Literal(zero, t))], strict=True)
        assert f([(nan,)])[0][0] is nan
        n = compile_projection([bind_arith("/", _x(t), Literal(zero + 2, t)),
                                bind_arith("%", _x(t), Literal(zero + 2, t))], strict=True)
        assert n([(nan,)])[0] == (nan, nan)
