"""TopN: global and per-group, offsets, row numbers, a brute-force differential test."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import Chunk
from executor.operators.top_n import TopN, sorted_rows
from executor.operators.top_n.sorted_rows import SortedRows
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (accumulated_inputs, check_invariants,
                                              draw_epochs, draw_schedule, run_with_restart)


def top_n_epochs(op: TopN, src: MockSource) -> list[Chunk]:
    msgs = run(op.execute, src)
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def test_global_top_2_next_row_moves_in() -> None:
    src = MockSource()
    src.push_chunk("""
         I I
       + 1 50
       + 2 10
       + 3 30
       + 4 .
    """).push_barrier()
    src.push_chunk("- 2 10").push_barrier()
    src.push_chunk("+ 5 99").push_barrier()  # outside the top 2: no output
    op = TopN([(1, False, False)], 2, 0, [], StateTable("t"))  # ORDER BY c1 ASC NULLS LAST
    out = top_n_epochs(op, src)
    assert multiset(out[0]) == {(2, 10): 1, (3, 30): 1}
    assert multiset(out[1]) == {(2, 10): -1, (1, 50): 1}
    assert len(out[2]) == 0


def test_desc_nulls_first_with_offset() -> None:
    src = MockSource()
    src.push_chunk("""
         I T
       + 1 b
       + 2 .
       + 3 a
       + 4 c
    """).push_barrier()
    op = TopN([(1, True, True)], 2, 1, [], StateTable("t"))  # DESC NULLS FIRST, OFFSET 1
    assert multiset(top_n_epochs(op, src)[0]) == {(4, "c"): 1, (1, "b"): 1}


def test_ties_broken_by_whole_row_and_duplicates_kept() -> None:
    src = MockSource()
    src.push_chunk("""
         I I
       + 7 1
       + 3 1
       + 3 1
       + 1 2
    """).push_barrier()
    op = TopN([(1, False, False)], 2, 0, [], StateTable("t"))
    assert multiset(top_n_epochs(op, src)[0]) == {(3, 1): 2}


def test_per_group_with_row_number_updates_positions() -> None:
    src = MockSource()
    src.push_chunk("""
         T I
       + a 5
       + a 3
       + b 1
       + a 9
    """).push_barrier()
    src.push_chunk("+ a 1").push_barrier()
    op = TopN([(1, False, False)], 2, 0, [0], StateTable("t", dist_len=1), row_number=True)
    out = top_n_epochs(op, src)
    assert multiset(out[0]) == {("a", 3, 1): 1, ("a", 5, 2): 1, ("b", 1, 1): 1}
    assert out[1].to_pretty() == "U- a 3 1\nU+ a 1 1\nU- a 5 2\nU+ a 3 2"


def test_no_limit_keeps_rows_from_offset() -> None:
    src = MockSource().push_chunk("+ 3\n+ 1\n+ 2").push_barrier()
    op = TopN([(0, False, False)], None, 1, [], StateTable("t"))
    assert multiset(top_n_epochs(op, src)[0]) == {(2,): 1, (3,): 1}


def test_large_output_cut_into_chunks_without_splitting_pairs() -> None:
    src = MockSource().push_chunk(Chunk.inserts([(i,) for i in range(1, 2000)])).push_barrier()
    src.push_chunk(Chunk.inserts([(0,)])).push_barrier()
    op = TopN([(0, False, False)], 1500, 0, [], StateTable("t"), row_number=True)
    msgs = run(op.execute, src)
    check_invariants(msgs)
    out = chunks_between_barriers(msgs)
    assert len(multiset(out[0])) == 1500
    assert multiset(out[1]) == {**{(i, i + 1): 1 for i in range(0, 1500)},
                                **{(i, i): -1 for i in range(1, 1501)}}


# -- differential test against a straightforward sort

def reference_order(rows: list[tuple], order_by: list[tuple[int, bool, bool]]) -> list[tuple]:
    """Sort by the whole row (NULLs last) first, then stable-sort by each ORDER BY entry
    from the least to the most significant."""
    rows = sorted(rows, key=lambda r: [(v is None, v) for v in r])
    for col, desc, nulls_first in reversed(order_by):
        nulls = [r for r in rows if r[col] is None]
        values = sorted((r for r in rows if r[col] is not None), key=lambda r: r[col],
                        reverse=desc)
        rows = nulls + values if nulls_first else values + nulls
    return rows


def reference_top_n(rows: list[tuple], order_by: list[tuple[int, bool, bool]],
                    limit: int | None, offset: int, group_key: list[int],
                    row_number: bool) -> dict[tuple, int]:
    groups: dict[tuple, list[tuple]] = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in group_key), []).append(r)
    out: dict[tuple, int] = {}
    for members in groups.values():
        ordered = reference_order(members, order_by)
        end = len(ordered) if limit is None else offset + limit
        for i in range(offset, min(end, len(ordered))):
            row = ordered[i] + ((i + 1,) if row_number else ())
            out[row] = out.get(row, 0) + 1
    return out


ROW = st.tuples(st.sampled_from(["g", "h", None]), st.sampled_from([1, 2, 3, None]),
                st.sampled_from([0.5, -1.0, None]), st.sampled_from(["a", "b"]))
ORDER_ENTRY = st.tuples(st.integers(1, 3), st.booleans(), st.booleans())


@settings(max_examples=100, deadline=None)
@given(st.data(), st.lists(ORDER_ENTRY, min_size=1, max_size=2),
       st.one_of(st.none(), st.integers(0, 4)), st.integers(0, 2), st.booleans(), st.booleans())
def test_matches_reference_through_restarts(data: st.DataObject,
                                            order_by: list[tuple[int, bool, bool]],
                                            limit: int | None, offset: int, grouped: bool,
                                            row_number: bool) -> None:
    epochs = draw_epochs(data, ROW, max_ops=16)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    group_key = [0] if grouped else []
    load, sorted_rows.LOAD = sorted_rows.LOAD, 2  # tiny buckets: splits and merges happen
    try:
        outputs = run_with_restart(
            lambda state: TopN(order_by, limit, offset, group_key, state, row_number),
            epochs, checkpoints, restart_after, dist_len=len(group_key))
    finally:
        sorted_rows.LOAD = load
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        assert got == reference_top_n(rows, order_by, limit, offset, group_key, row_number)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 20)), max_size=80),
       st.integers(0, 30), st.integers(0, 30))
def test_sorted_rows_matches_a_sorted_list(steps: list[tuple[bool, int]], start: int,
                                           length: int) -> None:
    load, sorted_rows.LOAD = sorted_rows.LOAD, 2
    try:
        rows = SortedRows([(0,), (5,), (5,)], [(0,), (5,), (5,)])
        expected = [(0,), (5,), (5,)]
        for insert, v in steps:
            if insert or (v,) not in expected:
                rows.insert((v,), (v,))
                expected.append((v,))
            else:
                rows.remove((v,))
                expected.remove((v,))
            expected.sort()
            assert len(rows) == len(expected)
        assert rows.slice(0, None) == expected
        assert rows.slice(start, start + length) == expected[start:start + length]
    finally:
        sorted_rows.LOAD = load
