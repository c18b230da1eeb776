"""Interval joins: the bounds the planner finds in a join condition, and the state a
HashJoin forgets on watermarks. Forgetting must never change the output: a random
differential run (inserts and deletes that keep each side's watermark promise)
gives what a brute-force join over all rows gives, for every join kind."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.message import Barrier, Chunk
from executor.operators.hash_join import HashJoin
from planner import expressions as X
from planner.interval_join import interval_bounds
from planner.types import BOOLEAN, INT64, INTERVAL, TIMESTAMP, TIMESTAMPTZ, Interval
from tests.executor.harness import MockSource, chunks_between_barriers, multiset
from tests.executor.operators.test_hash_join import brute_join, run_join, tables

T0 = dt.datetime(2024, 1, 1)
# Rows are (key, ts, tag) on both sides; the condition sees left_row + right_row.
L_TS = X.InputRef(1, TIMESTAMP, "l.ts")
R_TS = X.InputRef(4, TIMESTAMP, "r.ts")


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def secs(n: int) -> X.Literal:
    return X.Literal(Interval(0, 0, n * 1_000_000), INTERVAL)


def cmp(op: str, a: X.BoundExpr, b: X.BoundExpr) -> X.BoundExpr:
    return X.Call(op, (a, b), BOOLEAN)


def shifted(col: X.BoundExpr, n: int) -> X.BoundExpr:
    if n == 0:
        return col
    return X.Call("+" if n > 0 else "-", (col, secs(abs(n))), col.type)


def between(lo: int | None, hi: int | None, strict: bool = False) -> X.BoundExpr:
    """l.ts within [r.ts - lo, r.ts + hi] (open ends when strict; None: unbounded)."""
    parts = []
    if lo is not None:
        parts.append(cmp(">" if strict else ">=", L_TS, shifted(R_TS, -lo)))
    if hi is not None:
        parts.append(cmp("<" if strict else "<=", L_TS, shifted(R_TS, hi)))
    out = parts[0]
    for p in parts[1:]:
        out = X.Call("AND", (out, p), BOOLEAN)
    return out


# ---------------------------------------------------------------- planner: the bounds

def test_q7_between_bounds_both_sides():
    # B.ts BETWEEN B1.ts - 10 s AND B1.ts: a left row goes once l.ts + 10 s < wm(r.ts),
    # a right row once r.ts < wm(l.ts).
    assert interval_bounds(between(10, 0), 3) == [(0, 1, 1, 10_000_000, False),
                                                  (1, 1, 1, 0, False)]


def test_q4_bounds_use_a_second_column_of_the_same_side():
    # bid.ts BETWEEN auction.ts AND auction.expires, auction on the left (ts, expires).
    a_ts, a_exp = X.InputRef(0, TIMESTAMP), X.InputRef(1, TIMESTAMP)
    b_ts = X.InputRef(3, TIMESTAMP)
    cond = X.Call("AND", (cmp(">=", b_ts, a_ts), cmp("<=", b_ts, a_exp)), BOOLEAN)
    # bids go below wm(auction.ts); auctions once expires < wm(bid.ts)
    assert interval_bounds(cond, 2) == [(1, 1, 0, 0, False), (0, 1, 1, 0, False)]


def test_constants_on_either_side_strictness_and_equality():
    cond = cmp("<", X.Call("+", (secs(5), R_TS), TIMESTAMP), shifted(L_TS, -1))
    # r.ts + 5 s < l.ts - 1 s: r.ts bounded above by l.ts - 6 s
    assert interval_bounds(cond, 3) == [(0, 1, 1, -6_000_000, True)]
    assert interval_bounds(cmp("=", L_TS, shifted(R_TS, 2)), 3) == [
        (1, 1, 1, 2_000_000, False), (0, 1, 1, -2_000_000, False)]


def test_no_bounds_where_none_can_be_trusted():
    one_side = cmp("<=", L_TS, X.InputRef(0, TIMESTAMP))
    either = X.Call("OR", (cmp("<=", L_TS, R_TS), cmp(">=", L_TS, R_TS)), BOOLEAN)
    months = cmp("<=", L_TS, X.Call("+", (R_TS, X.Literal(Interval(1, 0, 0), INTERVAL)),
                                    TIMESTAMP))
    tz_l, tz_r = X.InputRef(1, TIMESTAMPTZ), X.InputRef(4, TIMESTAMPTZ)
    tz_day = cmp("<=", tz_l, X.Call("+", (tz_r, X.Literal(Interval(0, 1, 0), INTERVAL)),
                                    TIMESTAMPTZ))
    numbers = cmp("<=", X.InputRef(0, INT64), X.InputRef(3, INT64))
    for cond in (None, one_side, either, months, tz_day, numbers):
        assert interval_bounds(cond, 3) == []
    day = cmp("<=", L_TS, X.Call("+", (R_TS, X.Literal(Interval(0, 1, 0), INTERVAL)),
                                 TIMESTAMP))
    assert interval_bounds(day, 3) == [(1, 1, 1, 86_400_000_000, False)]


# ---------------------------------------------------------------- executor: the state

def make(kind: str, cond: X.BoundExpr, clean: bool = True) -> HashJoin:
    lt, rt = tables(1)
    return HashJoin(kind, [0], [0], 3, 3, X.compile_filter(cond), lt, rt, 3,
                    interval_bounds(cond, 3) if clean else None)


def test_watermarks_drop_rows_no_later_row_can_match_and_keep_the_output():
    op = make("inner", between(10, 0))
    left = MockSource().push_chunk(Chunk.inserts([(1, at(0), "a"), (1, at(20), "b")]))\
        .push_barrier().push_barrier().push_watermark(1, at(15)).push_barrier()
    right = MockSource().push_chunk(Chunk.inserts([(1, at(5), "x"), (1, at(25), "y")]))\
        .push_barrier().push_watermark(1, at(11)).push_barrier().push_barrier()
    out = [multiset(c) for c in chunks_between_barriers(run_join(op, left, right))]
    assert out == [{(1, at(0), "a", 1, at(5), "x"): 1, (1, at(20), "b", 1, at(25), "y"): 1},
                   {}, {}]
    # wm(r.ts) = 11 s: left a (0 s + 10 s < 11 s) goes, b stays. wm(l.ts) = 15 s: right
    # x (5 s) goes, y (25 s) stays. Nothing was deleted downstream.
    assert [k[-1][2] for k in op.left.state.data] == ["b"]
    assert [k[-1][2] for k in op.right.state.data] == ["y"]
    assert op.rows_dropped == 2


def test_a_row_at_the_bound_is_kept_unless_the_bound_is_strict():
    for strict, left_after in ((False, ["a"]), (True, [])):
        op = make("inner", between(10, 0, strict))
        left = MockSource().push_chunk(Chunk.inserts([(1, at(0), "a")])).push_barrier()
        right = MockSource().push_watermark(1, at(10)).push_barrier()
        run_join(op, left, right)
        assert [k[-1][2] for k in op.left.state.data] == left_after, strict


def test_a_delete_of_a_forgotten_row_still_retracts_its_matches():
    # Left a is forgotten at wm(r.ts) = 11 s; its partner x (5 s) stays while
    # wm(l.ts) allows deletes of a. The later delete of a retracts a+x.
    op = make("inner", between(10, 0))
    left = MockSource().push_barrier().push_chunk(Chunk.inserts([(1, at(0), "a")]))\
        .push_barrier().push_barrier().push_chunk(Chunk([1], [(1, at(0), "a")])).push_barrier()
    right = MockSource().push_chunk(Chunk.inserts([(1, at(5), "x")])).push_barrier()\
        .push_barrier().push_watermark(1, at(11)).push_barrier().push_barrier()
    out = [multiset(c) for c in chunks_between_barriers(run_join(op, left, right))]
    assert out == [{}, {(1, at(0), "a", 1, at(5), "x"): 1}, {},
                   {(1, at(0), "a", 1, at(5), "x"): -1}]
    assert len(op.left.state) == 0 and len(op.right.state) == 1


# Random runs: per epoch and side, chunks and watermark moves. A side's inserts and
# deletes keep its watermark promise (ts >= the side's last watermark); NULL times
# never match and are never forgotten.

def draw_side(data: Any, present: Counter, wm: list[int], tags: list[int]) -> list:
    msgs: list = []
    for _ in range(data.draw(st.integers(0, 4))):
        if data.draw(st.integers(0, 2)) == 0:
            wm[0] += data.draw(st.integers(1, 4))
            msgs.append(at(wm[0]))
            continue
        ops: list[int] = []
        rows: list[tuple] = []
        for _ in range(data.draw(st.integers(1, 4))):
            live = [r for r, n in present.items()
                    if n > 0 and (r[1] is None or r[1] >= at(wm[0]))]
            if live and data.draw(st.booleans()):
                row = data.draw(st.sampled_from(sorted(live, key=repr)))
                ops.append(1)
                present[row] -= 1
            else:
                ts = data.draw(st.one_of(st.none(), st.integers(wm[0], wm[0] + 6)))
                tags[0] += 1
                row = (data.draw(st.sampled_from([0, 1])), None if ts is None else at(ts),
                       tags[0] % 3)
                ops.append(0)
                present[row] += 1
            rows.append(row)
        msgs.append(Chunk(ops, rows))
    return msgs


def feed(source: MockSource, msgs: list) -> None:
    for m in msgs:
        if isinstance(m, Chunk):
            source.push_chunk(m)
        else:
            source.push_watermark(1, m)


@pytest.mark.parametrize("kind", ["inner", "left", "right", "full"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_forgetting_never_changes_the_output(kind: str, data: Any) -> None:
    lo = data.draw(st.sampled_from([None, 0, 2]))
    hi = data.draw(st.sampled_from([0, 1, 3] if lo is None else [None, 0, 1, 3]))
    cond_expr = between(lo, hi, data.draw(st.booleans()))
    cond = X.compile_filter(cond_expr)
    present_l: Counter = Counter()
    present_r: Counter = Counter()
    wms, tags = ([0], [0]), [0]
    epochs = [(draw_side(data, present_l, wms[0], tags), draw_side(data, present_r, wms[1], tags))
              for _ in range(data.draw(st.integers(1, 8)))]
    cut = data.draw(st.integers(0, len(epochs)))  # restart from committed state there
    acc_l: Counter = Counter()
    acc_r: Counter = Counter()
    acc_out: Counter = Counter()
    lt, rt = tables(1)
    for start, stop in ((0, cut), (cut, len(epochs))):
        if start == stop:
            continue
        op = HashJoin(kind, [0], [0], 3, 3, cond, lt, rt, 3, interval_bounds(cond_expr, 3))
        left, right = MockSource(), MockSource()
        for i in range(start, stop):
            feed(left, epochs[i][0])
            feed(right, epochs[i][1])
            left.push_barrier(i + 2)
            right.push_barrier(i + 2)
        messages = run_join(op, left, right)
        assert sum(isinstance(m, Barrier) for m in messages) == stop - start
        for i, group in zip(range(start, stop), chunks_between_barriers(messages)):
            for side, acc in ((0, acc_l), (1, acc_r)):
                for m in epochs[i][side]:
                    if isinstance(m, Chunk):
                        acc.update(multiset(m))
            acc_out.update(multiset(group))
            got = {r: n for r, n in acc_out.items() if n}
            want = {r: n for r, n in brute_join(kind, [0], cond, acc_l, acc_r).items() if n}
            assert got == want, f"after epoch {i}"
        lt = lt._sink.restore("left", 1)  # type: ignore[union-attr]
        rt = rt._sink.restore("right", 1)  # type: ignore[union-attr]
