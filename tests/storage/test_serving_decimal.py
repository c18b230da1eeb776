"""Numeric values reach the serving store rounded to the column's scale half away
from zero (as PostgreSQL rounds numeric), and a value beyond the column's precision
(or NaN, which DuckDB's DECIMAL cannot hold) is NULL; the fast path that hands a
whole column to arrow must give the same array as that rule applied value by value."""

from __future__ import annotations

import decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from storage.serving_store import _to_decimal_array

D = decimal.Decimal


def _expected(v: D | int | None, p: int, s: int) -> D | None:
    if v is None:
        return None
    d = D(v)
    if not d.is_finite():
        return None
    d = d.quantize(D(1).scaleb(-s), rounding=decimal.ROUND_HALF_UP,
                   context=decimal.Context(prec=100))
    return d if abs(d) < D(10) ** (p - s) else None


VALUES = st.one_of(st.none(), st.integers(-10**14, 10**14),
                   st.decimals(allow_nan=True, allow_infinity=False, places=6,
                               min_value=-10**12, max_value=10**12),
                   st.decimals(allow_nan=False, allow_infinity=False, places=1,
                               min_value=-10**9, max_value=10**9))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(VALUES, max_size=12), ps=st.sampled_from([(38, 10), (10, 2), (12, 0)]))
def test_decimal_column_matches_the_value_by_value_rule(values: list, ps: tuple[int, int]) -> None:
    p, s = ps
    got = _to_decimal_array(values, f"DECIMAL({p},{s})").to_pylist()
    assert got == [_expected(v, p, s) for v in values]


def test_half_away_from_zero() -> None:
    assert _to_decimal_array([D("1.005"), D("-1.005"), D("2.5")], "DECIMAL(10,2)").to_pylist() \
        == [D("1.01"), D("-1.01"), D("2.50")]
