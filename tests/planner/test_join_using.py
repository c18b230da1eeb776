"""apply_using: its doctest, chained USING, and the errors PostgreSQL gives."""

from __future__ import annotations

import doctest

import pytest
import sqlglot

import planner.join_using
from planner.errors import Error
from planner.join_using import apply_using


def test_doctests() -> None:
    assert doctest.testmod(planner.join_using).failed == 0


def test_full_join_merges_with_coalesce_and_chains() -> None:
    sel = sqlglot.parse_one("SELECT k FROM a FULL JOIN b USING (k) JOIN c USING (k)")
    ons = apply_using(sel, ["a", "b", "c"], [["k"], ["k"], ["k"]], ["full", "inner"],
                      [None, None], [["k"], ["k"]])
    assert [o.sql() for o in ons] == ["a.k = b.k", "COALESCE(a.k, b.k) = c.k"]
    assert sel.expressions[0].sql() == "COALESCE(a.k, b.k) AS k"


@pytest.mark.parametrize("cols, state", [
    ([["x"], ["k"]], "42703"),  # not in the left table
    ([["k"], ["x"]], "42703"),  # not in the right table
])
def test_missing_column(cols: list[list[str]], state: str) -> None:
    sel = sqlglot.parse_one("SELECT 1 FROM a JOIN b USING (k)")
    with pytest.raises(Error) as err:
        apply_using(sel, ["a", "b"], cols, ["inner"], [None], [["k"]])
    assert err.value.sqlstate == state
