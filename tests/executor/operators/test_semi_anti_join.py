"""SemiAntiJoin: hand-written cases, NOT IN semantics, brute-force differential, restart."""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.message import Barrier, Chunk
from executor.operators.semi_anti_join import SemiAntiJoin
from tests.executor.harness import MockSource
from tests.executor.operators.test_hash_join import (
    KEYS, ROWS, check_run, draw_epochs, epochs_out, le_condition, run_join, tables,
)


def make(kind: str, cond=None, key=(0,), null_aware: bool = False,
         chunk_size: int = 1024) -> SemiAntiJoin:
    lt, rt = tables(len(key))
    return SemiAntiJoin(kind, list(key), list(key), 2, 2, cond, lt, rt,
                        null_aware=null_aware, chunk_size=chunk_size)


def scenario() -> tuple[MockSource, MockSource]:
    """Left rows first; then a partner arrives for key 1, a second one, both leave."""
    left = MockSource().push_chunk("""
        I T
      + 1 a
      + 1 a
      + 2 b
      + . c
    """)
    for _ in range(4):
        left.push_barrier()
    right = MockSource().push_barrier().push_chunk("+ 1 x").push_barrier()\
        .push_chunk("+ 1 y").push_barrier().push_chunk("- 1 x\n- 1 y").push_barrier()
    return left, right


def test_semi_join_passes_left_rows_with_a_partner():
    out = epochs_out(make("semi"), *scenario())
    assert out == [{}, {(1, "a"): 2}, {}, {(1, "a"): -2}]


def test_anti_join_passes_left_rows_without_a_partner():
    out = epochs_out(make("anti"), *scenario())
    assert out == [{(1, "a"): 2, (2, "b"): 1, (None, "c"): 1}, {(1, "a"): -2}, {},
                   {(1, "a"): 2}]


def test_duplicate_partners_count_toward_the_degree():
    left = MockSource().push_barrier().push_chunk("+ 1 a").push_barrier().push_barrier()
    right = MockSource().push_chunk("+ 1 x\n+ 1 x").push_barrier().push_barrier()\
        .push_chunk("- 1 x").push_barrier()
    out = epochs_out(make("semi"), left, right)
    assert out == [{}, {(1, "a"): 1}, {}]


def test_condition_restricts_partners_and_runs_once_per_chunk():
    calls: list[int] = []

    def cond(rows: list[tuple]) -> list[bool]:
        calls.append(len(rows))
        return [lv < rv for _, lv, _, rv in rows]

    left = MockSource().push_chunk("+ 1 5\n+ 1 1").push_barrier().push_barrier()
    right = MockSource().push_barrier().push_chunk("+ 1 3\n+ 1 0").push_barrier()
    out = epochs_out(make("semi", cond), left, right)
    assert out == [{}, {(1, 1): 1}]
    assert calls == [4]


def test_changes_cancelling_within_a_chunk_emit_nothing():
    left = MockSource().push_chunk("+ 1 a").push_barrier().push_barrier()
    right = MockSource().push_barrier().push_chunk("+ 1 x\n- 1 x").push_barrier()
    msgs = run_join(make("semi"), left, right)
    assert [type(m) for m in msgs] == [Barrier, Barrier]


def test_null_aware_anti_join_follows_not_in():
    op = make("anti", null_aware=True)
    left = MockSource().push_chunk("""
        I T
      + 1 a
      + 2 b
      + . c
    """)
    for _ in range(4):
        left.push_barrier()
    right = MockSource().push_barrier()\
        .push_chunk("+ 1 x").push_barrier()\
        .push_chunk("+ . y").push_barrier()\
        .push_chunk("- . y\n- 1 x").push_barrier()
    out = epochs_out(op, left, right)
    assert out == [
        {(1, "a"): 1, (2, "b"): 1, (None, "c"): 1},  # empty right: everything passes
        {(1, "a"): -1, (None, "c"): -1},             # NULL NOT IN (1) is unknown
        {(2, "b"): -1},                              # a NULL on the right blocks all
        {(1, "a"): 1, (2, "b"): 1, (None, "c"): 1},  # empty again
    ]


def test_null_aware_arguments_are_checked():
    lt, rt = tables(1)
    with pytest.raises(ValueError):
        SemiAntiJoin("semi", [0], [0], 2, 2, None, lt, rt, null_aware=True)
    with pytest.raises(ValueError):
        SemiAntiJoin("anti", [0, 1], [0, 1], 2, 2, None, lt, rt, null_aware=True)
    with pytest.raises(NotImplementedError):
        SemiAntiJoin("anti", [0], [0], 2, 2, le_condition, lt, rt, null_aware=True)
    with pytest.raises(ValueError):
        SemiAntiJoin("inner", [0], [0], 2, 2, None, lt, rt)


# ---------------------------------------------------------------- differential + restart

def brute_semi_anti(kind: str, key: list[int], cond: Any, left: Counter,
                    right: Counter) -> Counter:
    out: Counter = Counter()
    live_right = [r for r, n in right.items() if n > 0]
    for lrow, lc in left.items():
        if lc <= 0:
            continue
        has = any(all(lrow[i] is not None and lrow[i] == r[i] for i in key)
                  and (cond is None or cond([lrow + r])[0]) for r in live_right)
        if has == (kind == "semi"):
            out[lrow] += lc
    return out


def not_in_oracle(left: Counter, right: Counter) -> Counter:
    """`SELECT * FROM l WHERE a NOT IN (SELECT a FROM r)` answered by DuckDB."""
    con = duckdb.connect()
    con.execute("CREATE TABLE l (a INT, b INT, v INT)")
    con.execute("CREATE TABLE r (a INT, b INT, v INT)")
    for name, rows in (("l", left), ("r", right)):
        values = [row for row, n in rows.items() for _ in range(max(n, 0))]
        if values:
            con.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", values)
    got = con.execute("SELECT * FROM l WHERE a NOT IN (SELECT a FROM r)").fetchall()
    con.close()
    return Counter(tuple(row) for row in got)


@pytest.mark.parametrize("kind", ["semi", "anti"])
@pytest.mark.parametrize("keys", list(KEYS))
@pytest.mark.parametrize("with_cond", [False, True])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matches_brute_force_across_epochs_and_restart(kind, keys, with_cond, data):
    key = KEYS[keys]
    cond = le_condition if with_cond else None
    epochs = draw_epochs(data, ROWS, ROWS)
    cut = data.draw(st.integers(0, len(epochs)))
    check_run(lambda lt, rt: SemiAntiJoin(kind, key, key, 3, 3, cond, lt, rt, chunk_size=3),
              len(key), epochs, cut,
              lambda lc, rc: brute_semi_anti(kind, key, cond, lc, rc), chunk_size=3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_null_aware_anti_join_matches_duckdb_not_in(data):
    epochs = draw_epochs(data, ROWS, ROWS)
    cut = data.draw(st.integers(0, len(epochs)))
    check_run(lambda lt, rt: SemiAntiJoin("anti", [0], [0], 3, 3, None, lt, rt,
                                          null_aware=True, chunk_size=3),
              1, epochs, cut, not_in_oracle, chunk_size=3)


def test_chunks_stay_bounded_when_a_gate_flips_many_rows():
    op = make("anti", null_aware=True, chunk_size=2)
    left = MockSource().push_chunk(Chunk.inserts([(i, "v") for i in range(5)]))\
        .push_barrier().push_barrier()
    right = MockSource().push_barrier().push_chunk("+ . x").push_barrier()
    msgs = run_join(op, left, right)
    sizes = [len(m) for m in msgs if isinstance(m, Chunk)]
    assert sizes == [2, 2, 1, 2, 2, 1]
