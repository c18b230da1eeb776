"""TopN with a limit over long change streams: rows that cannot enter the top N wait
unsorted, deletes of shown rows pull the next ones in (cache refills), deleted rows
linger in the rest list until it is rebuilt. Checked against a brute-force sort of the
accumulated input after every epoch, through restarts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor.message import DELETE, INSERT, UPDATE_DELETE, UPDATE_INSERT, Chunk
from executor.operators.top_n import TopN, bounded_rows
from executor.operators.top_n.order import order_cmp, order_key, sort_key
from planner.nan import NAN, NUMERIC_NAN
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run
from tests.executor.operators.support import (accumulated_inputs, check_invariants,
                                              draw_epochs, draw_schedule, run_with_restart)
from tests.executor.operators.test_top_n import reference_top_n

# Few groups and few distinct values: big groups, many ties and duplicates.
ROW = st.tuples(st.sampled_from(["g", "h", None]), st.sampled_from([1, 2, 3, 4, 5, None]),
                st.sampled_from([0.5, -1.0, NAN, float("inf"), None]),
                st.sampled_from([True, False, None]), st.sampled_from(["a", "b"]))
ORDER_ENTRY = st.tuples(st.integers(1, 4), st.booleans(), st.booleans())


@pytest.fixture(autouse=True)
def small_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small cache slack so that refills happen after few deletes."""
    monkeypatch.setattr(bounded_rows, "MIN_SLACK", 1)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.lists(ORDER_ENTRY, min_size=1, max_size=3), st.integers(0, 4),
       st.integers(0, 2), st.booleans(), st.booleans())
def test_long_streams_match_a_full_sort(data: st.DataObject,
                                        order_by: list[tuple[int, bool, bool]], limit: int,
                                        offset: int, grouped: bool, row_number: bool) -> None:
    epochs = draw_epochs(data, ROW, max_epochs=6, max_ops=60)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    group_key = [0] if grouped else []
    outputs = run_with_restart(
        lambda state: TopN(order_by, limit, offset, group_key, state, row_number),
        epochs, checkpoints, restart_after, dist_len=len(group_key))
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        assert got == reference_top_n(rows, order_by, limit, offset, group_key, row_number)


# Two columns from a tiny domain: the same row many times over, copies of one row
# both shown and waiting.
DUP_ROW = st.tuples(st.sampled_from(["g", "h"]), st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(st.data(), st.booleans(), st.integers(1, 3), st.integers(0, 1), st.booleans())
def test_duplicate_rows_match_a_full_sort(data: st.DataObject, desc: bool, limit: int,
                                          offset: int, grouped: bool) -> None:
    epochs = draw_epochs(data, DUP_ROW, max_epochs=6, max_ops=40)
    checkpoints, restart_after = draw_schedule(data, len(epochs))
    group_key = [0] if grouped else []
    order_by = [(1, desc, False)]
    outputs = run_with_restart(
        lambda state: TopN(order_by, limit, offset, group_key, state),
        epochs, checkpoints, restart_after, dist_len=len(group_key))
    for got, rows in zip(outputs, accumulated_inputs(epochs)):
        assert got == reference_top_n(rows, order_by, limit, offset, group_key, False)


def _run_epochs(op: TopN, epochs: list[Chunk]) -> list[Chunk]:
    src = MockSource()
    for chunk in epochs:
        src.push_chunk(chunk).push_barrier()
    msgs = run(op.execute, src)
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def _accumulate(outputs: list[Chunk]) -> list[dict[tuple, int]]:
    acc: dict[tuple, int] = {}
    result = []
    for chunk in outputs:
        for r, n in multiset(chunk).items():
            acc[r] = acc.get(r, 0) + n
            if not acc[r]:
                del acc[r]
        result.append(dict(acc))
    return result


def test_deleting_the_top_row_again_and_again() -> None:
    """A global top-3 over 400 rows loses its first row 300 times, one per epoch: the
    cache is refilled from the unsorted rest many times, and the output is always the
    three smallest remaining values."""
    rng = random.Random(7)
    values = rng.sample(range(10_000), 400)
    epochs = [Chunk.inserts([(v, str(v)) for v in values])]
    left = sorted(values)
    expected = [set(left[:3])]
    for _ in range(300):
        v = left.pop(0)
        epochs.append(Chunk([DELETE], [(v, str(v))]))
        expected.append(set(left[:3]))
    op = TopN([(0, False, False)], 3, 0, [], StateTable("t"))
    got = _accumulate(_run_epochs(op, epochs))
    assert [{r[0] for r in rows} for rows in got] == expected


def test_mixed_stream_per_group_with_updates() -> None:
    """Random inserts, deletes and updates over 20 groups of a few hundred rows each,
    ORDER BY a DESC with many equal values (ties broken by the whole row)."""
    rng = random.Random(11)
    present: list[tuple] = []
    epochs: list[Chunk] = []
    for _ in range(40):
        ops: list[int] = []
        rows: list[tuple] = []
        for _ in range(150):
            r = rng.random()
            if present and r < 0.3:
                row = present.pop(rng.randrange(len(present)))
                ops.append(DELETE)
                rows.append(row)
            elif present and r < 0.4:
                old = present.pop(rng.randrange(len(present)))
                new = (old[0], rng.randrange(30), old[2])
                present.append(new)
                ops += [UPDATE_DELETE, UPDATE_INSERT]
                rows += [old, new]
            else:
                row = (rng.randrange(20), rng.randrange(30), rng.choice("xyz"))
                present.append(row)
                ops.append(INSERT)
                rows.append(row)
        epochs.append(Chunk(ops, rows))
    order = [(1, True, False)]
    op = TopN(order, 4, 1, [0], StateTable("t", dist_len=1), row_number=True)
    got = _accumulate(_run_epochs(op, epochs))
    acc: dict[tuple, int] = {}
    for i, chunk in enumerate(epochs):
        for row, n in multiset(chunk).items():
            acc[row] = acc.get(row, 0) + n
        rows = [r for r, n in acc.items() for _ in range(n)]
        assert got[i] == reference_top_n(rows, order, 4, 1, [0], True)


def test_rest_list_stays_near_its_live_size() -> None:
    """Deleted rows of the rest are dropped when the list doubles past the live rows."""
    src = MockSource()
    src.push_chunk(Chunk.inserts([(i,) for i in range(1000)])).push_barrier()
    src.push_chunk(Chunk.deletes([(i,) for i in range(999, 10, -1)])).push_barrier()
    op = TopN([(0, False, False)], 2, 0, [], StateTable("t"))
    out = _run_epochs_from(op, src)
    assert multiset(out[0]) == {(0,): 1, (1,): 1} and len(out[1]) == 0
    (rows,) = op._groups.values()  # type: ignore[union-attr]
    assert len(rows) == 11 and len(rows.rest) <= 2 * rows.rest_n + 16


def _run_epochs_from(op: TopN, src: MockSource) -> list[Chunk]:
    msgs = run(op.execute, src)
    check_invariants(msgs)
    return chunks_between_barriers(msgs)


def test_boolean_desc_orders_true_first() -> None:
    src = MockSource().push_chunk(Chunk.inserts([(1, False), (2, True), (3, None),
                                                 (4, False)])).push_barrier()
    op = TopN([(1, True, False)], 2, 0, [], StateTable("t"))  # ORDER BY b DESC LIMIT 2
    assert multiset(_run_epochs_from(op, src)[0]) == {(2, True): 1, (1, False): 1}
    key = sort_key([(0, True, False)], 0)
    assert sorted([(False,), (None,), (True,)], key=key) == [(True,), (False,), (None,)]


def _values(kind: str) -> st.SearchStrategy:
    base: dict[str, st.SearchStrategy] = {
        "int": st.integers(-3, 3),
        "float": st.sampled_from([-1.5, 0.0, 2.0, float("inf"), float("-inf"), NAN]),
        "decimal": st.sampled_from([D("-1.5"), D("0"), D("2.25"), NUMERIC_NAN]),
        "text": st.sampled_from(["", "a", "ab", "b"]),
        "bool": st.booleans(),
        "date": st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
        "timestamp": st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)),
        "timestamptz": st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1),
                                    timezones=st.sampled_from(
                                        [dt.timezone.utc, dt.timezone(dt.timedelta(hours=5))])),
    }
    return st.one_of(st.none(), base[kind])


def _reference_cmp(a: object, b: object, desc: bool, nulls_first: bool) -> int:
    if a is None or b is None:
        if a is None and b is None:
            return 0
        return (-1 if nulls_first else 1) if a is None else (1 if nulls_first else -1)
    if a == b:
        return 0
    before = a > b if desc else a < b  # type: ignore[operator]
    return -1 if before else 1


@settings(max_examples=300, deadline=None)
@given(st.data(), st.sampled_from(["int", "float", "decimal", "text", "bool", "date",
                                   "timestamp", "timestamptz"]),
       st.booleans(), st.booleans())
def test_comparison_and_keys_agree_with_plain_comparisons(data: st.DataObject, kind: str,
                                                          desc: bool, nulls_first: bool) -> None:
    """order_cmp and order_key against comparing the values themselves, for every kind
    of column, both directions, both NULL placements."""
    a, b = data.draw(_values(kind)), data.draw(_values(kind))
    entry = [(0, desc, nulls_first)]  # column 0 of the row, after one group column
    cmp, key = order_cmp(entry, 1), order_key(entry, 1)
    expected = _reference_cmp(a, b, desc, nulls_first)
    assert cmp(("g", a), ("g", b)) == expected
    ka, kb = key(("g", a)), key(("g", b))
    assert (ka < kb, ka == kb, ka > kb) == (expected < 0, expected == 0, expected > 0)
