"""HashJoin: hand-written cases, a brute-force differential test, and restart."""

from __future__ import annotations

import pickle
from collections import Counter
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor.message import Barrier, Chunk, Watermark
from executor.operators.hash_join import HashJoin
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, multiset, run


# ---------------------------------------------------------------- test tooling

class RecordingSink:
    """A checkpoint store stand-in: applies staged writes (serialized at stage time)."""

    def __init__(self) -> None:
        self.entries: dict[tuple, Any] = {}
        self.epochs: list[int] = []

    def stage(self, epoch: int, table_id: str, writes: list[tuple[int, tuple, Any]]) -> None:
        self.epochs.append(epoch)
        for _vnode, key, value in writes:
            if value is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = pickle.loads(pickle.dumps(value))

    def restore(self, table_id: str, dist_len: int) -> StateTable:
        """A fresh table loaded with what was committed, feeding a fresh sink."""
        table = StateTable(table_id, RecordingSink(), dist_len)
        table.load(list(self.entries.items()))
        return table


def tables(dist_len: int) -> tuple[StateTable, StateTable]:
    return (StateTable("left", RecordingSink(), dist_len),
            StateTable("right", RecordingSink(), dist_len))


def run_join(op: Any, left: MockSource, right: MockSource) -> list:
    return run(lambda a, b: op.execute([a, b]), left, right)


def epochs_out(op: Any, left: MockSource, right: MockSource) -> list[dict[tuple, int]]:
    return [multiset(c) for c in chunks_between_barriers(run_join(op, left, right))]


# Random input: per epoch, a few chunks per side; deletes only of rows present.
Epoch = tuple[list[Chunk], list[Chunk], bool]  # left chunks, right chunks, checkpoint?


def draw_side_chunks(data: Any, rows: st.SearchStrategy, present: Counter) -> list[Chunk]:
    chunks = []
    for _ in range(data.draw(st.integers(0, 2))):
        ops: list[int] = []
        out: list[tuple] = []
        for _ in range(data.draw(st.integers(1, 5))):
            live = sorted((r for r, n in present.items() if n > 0), key=repr)
            if live and data.draw(st.booleans()):
                row = data.draw(st.sampled_from(live))
                ops.append(1)
                present[row] -= 1
            else:
                row = data.draw(rows)
                ops.append(0)
                present[row] += 1
            out.append(row)
        chunks.append(Chunk(ops, out))
    return chunks


def draw_epochs(data: Any, left_rows: st.SearchStrategy,
                right_rows: st.SearchStrategy) -> list[Epoch]:
    present_l: Counter = Counter()
    present_r: Counter = Counter()
    epochs = []
    for _ in range(data.draw(st.integers(1, 6))):
        lc = draw_side_chunks(data, left_rows, present_l)
        rc = draw_side_chunks(data, right_rows, present_r)
        epochs.append((lc, rc, data.draw(st.booleans())))
    return epochs


def check_run(make_op: Callable[[StateTable, StateTable], Any], dist_len: int,
              epochs: list[Epoch], cut: int,
              brute: Callable[[Counter, Counter], Counter], chunk_size: int) -> None:
    """Feed epochs[:cut] to one instance, then restart from its committed state and feed
    the rest to a new one. After every barrier the accumulated output must equal
    `brute` over the accumulated input."""
    acc_out: Counter = Counter()
    acc_l: Counter = Counter()
    acc_r: Counter = Counter()
    lt, rt = tables(dist_len)
    for start, stop in ((0, cut), (cut, len(epochs))):
        if start == stop:
            continue
        op = make_op(lt, rt)
        left, right = MockSource(), MockSource()
        for i in range(start, stop):
            lcs, rcs, checkpoint = epochs[i]
            # The epoch before a restart must be a checkpoint so that nothing is lost.
            checkpoint = checkpoint or i == cut - 1
            for c in lcs:
                left.push_chunk(c)
            for c in rcs:
                right.push_chunk(c)
            left.push_barrier(i + 2, checkpoint)
            right.push_barrier(i + 2, checkpoint)
        messages = run_join(op, left, right)
        for msg in messages:
            if isinstance(msg, Chunk):
                assert 0 < len(msg) <= chunk_size
        groups = chunks_between_barriers(messages)
        assert len(groups) == stop - start
        for i, group in zip(range(start, stop), groups):
            for c in epochs[i][0]:
                acc_l.update(multiset(c))
            for c in epochs[i][1]:
                acc_r.update(multiset(c))
            acc_out.update(multiset(group))
            got = {r: n for r, n in acc_out.items() if n}
            want = {r: n for r, n in brute(acc_l, acc_r).items() if n}
            assert got == want, f"after epoch {i}"
        lt = lt._sink.restore("left", dist_len)  # type: ignore[union-attr]
        rt = rt._sink.restore("right", dist_len)  # type: ignore[union-attr]


# ---------------------------------------------------------------- hand-written cases

def make(kind: str, cond=None, key=(0,), chunk_size: int = 1024) -> HashJoin:
    lt, rt = tables(len(key))
    return HashJoin(kind, list(key), list(key), 2, 2, cond, lt, rt, chunk_size)


def test_inner_join_matches_by_key_and_multiplies_duplicates():
    left = MockSource().push_chunk("""
        I T
      + 1 a
      + 1 a
      + 2 b
    """).push_barrier().push_barrier()
    right = MockSource().push_barrier().push_chunk("""
        I T
      + 1 x
      + 1 y
      + 3 z
    """).push_barrier()
    out = epochs_out(make("inner"), left, right)
    assert out == [{}, {(1, "a", 1, "x"): 2, (1, "a", 1, "y"): 2}]


def test_left_join_swaps_padded_row_on_first_and_last_partner():
    left = MockSource().push_chunk("+ 1 a").push_barrier().push_barrier().push_barrier()\
        .push_barrier()
    right = MockSource().push_barrier().push_chunk("+ 1 x").push_barrier()\
        .push_chunk("+ 1 y").push_barrier().push_chunk("- 1 x\n- 1 y").push_barrier()
    out = epochs_out(make("left"), left, right)
    assert out == [
        {(1, "a", None, None): 1},
        {(1, "a", None, None): -1, (1, "a", 1, "x"): 1},
        {(1, "a", 1, "y"): 1},
        {(1, "a", 1, "x"): -1, (1, "a", 1, "y"): -1, (1, "a", None, None): 1},
    ]


def test_duplicate_partners_count_toward_the_degree():
    left = MockSource().push_barrier().push_chunk("+ 1 a").push_barrier().push_barrier()
    right = MockSource().push_chunk("+ 1 x\n+ 1 x").push_barrier().push_barrier()\
        .push_chunk("- 1 x").push_barrier()
    out = epochs_out(make("left"), left, right)
    assert out == [{}, {(1, "a", 1, "x"): 2}, {(1, "a", 1, "x"): -1}]


def test_right_and_full_join_pad_the_preserved_sides():
    left = MockSource().push_chunk("+ 1 a\n+ 2 b").push_barrier().push_barrier()
    right = MockSource().push_chunk("+ 2 y\n+ 3 z").push_barrier()\
        .push_chunk("- 2 y").push_barrier()
    out = epochs_out(make("right"), left, right)
    assert [{r: n for r, n in e.items()} for e in out] == [
        {(2, "b", 2, "y"): 1, (None, None, 3, "z"): 1},
        {(2, "b", 2, "y"): -1},
    ]
    left = MockSource().push_chunk("+ 1 a\n+ 2 b").push_barrier().push_barrier()
    right = MockSource().push_chunk("+ 2 y\n+ 3 z").push_barrier()\
        .push_chunk("- 2 y").push_barrier()
    out = epochs_out(make("full"), left, right)
    assert out == [
        {(1, "a", None, None): 1, (2, "b", 2, "y"): 1, (None, None, 3, "z"): 1},
        {(2, "b", 2, "y"): -1, (2, "b", None, None): 1},
    ]


def test_null_keys_never_match_but_are_kept_on_preserved_sides():
    for kind, want in [
        ("inner", {}),
        ("left", {(None, "a", None, None): 1}),
        ("right", {(None, None, None, "x"): 1}),
        ("full", {(None, "a", None, None): 1, (None, None, None, "x"): 1}),
    ]:
        op = make(kind)
        left = MockSource().push_chunk("+ . a").push_barrier().push_chunk("- . a").push_barrier()
        right = MockSource().push_chunk("+ . x").push_barrier().push_chunk("- . x")\
            .push_barrier()
        out = epochs_out(op, left, right)
        assert out[0] == want, kind
        assert out[1] == {r: -n for r, n in want.items()}, kind
        assert len(op.left.state) == 0 and len(op.right.state) == 0


def test_condition_is_evaluated_per_chunk_and_decides_outer_padding():
    calls: list[int] = []

    def cond(rows: list[tuple]) -> list[bool]:
        calls.append(len(rows))
        return [lv < rv for _, lv, _, rv in rows]

    left = MockSource().push_chunk("+ 1 5\n+ 1 1\n+ 2 1").push_barrier().push_barrier()
    right = MockSource().push_barrier().push_chunk("+ 1 3\n+ 1 4\n+ 2 0").push_barrier()
    out = epochs_out(make("full", cond), left, right)
    assert out == [
        {(1, 5, None, None): 1, (1, 1, None, None): 1, (2, 1, None, None): 1},
        {(1, 1, None, None): -1, (1, 1, 1, 3): 1, (1, 1, 1, 4): 1,
         (None, None, 2, 0): 1},
    ]
    # One call for the whole right chunk (no partners existed for the left chunk).
    assert calls == [2 * 2 + 1]


def test_cross_join_with_empty_key():
    left = MockSource().push_chunk("+ 1 a\n+ 2 b").push_barrier().push_barrier()
    right = MockSource().push_barrier().push_chunk("+ 7 x").push_barrier()
    out = epochs_out(make("inner", key=()), left, right)
    assert out == [{}, {(1, "a", 7, "x"): 1, (2, "b", 7, "x"): 1}]


def test_output_is_cut_into_chunks_of_bounded_size():
    op = make("inner", chunk_size=4)
    left = MockSource().push_chunk(Chunk.inserts([(1, i) for i in range(5)])).push_barrier()\
        .push_barrier()
    right = MockSource().push_barrier().push_chunk(Chunk.inserts([(1, "x"), (1, "y")]))\
        .push_barrier()
    msgs = run_join(op, left, right)
    sizes = [len(m) for m in msgs if isinstance(m, Chunk)]
    assert sizes == [4, 4, 2]


def test_barriers_commit_state_keyed_by_join_key_and_watermarks_are_dropped():
    op = make("left")
    left = MockSource().push_chunk("+ 1 a\n+ 2 b").push_watermark(0, 5)\
        .push_barrier(2, checkpoint=False).push_barrier(3)
    right = MockSource().push_chunk("+ 1 x").push_barrier(2, checkpoint=False).push_barrier(3)
    msgs = run_join(op, left, right)
    assert not any(isinstance(m, Watermark) for m in msgs)
    assert [m.epoch for m in msgs if isinstance(m, Barrier)] == [2, 3]
    lsink, rsink = op.left.state._sink, op.right.state._sink
    assert lsink.epochs == [3] and rsink.epochs == [3]
    assert lsink.entries == {(1, (1, "a")): (1, 1), (2, (2, "b")): (1, 0)}
    assert rsink.entries == {(1, (1, "x")): (1, 0)}


def test_rejects_unknown_kind_and_mismatched_keys():
    lt, rt = tables(1)
    with pytest.raises(ValueError):
        HashJoin("outer", [0], [0], 2, 2, None, lt, rt)
    with pytest.raises(ValueError):
        HashJoin("inner", [0], [0, 1], 2, 2, None, lt, rt)


# ---------------------------------------------------------------- differential + restart

ROWS = st.tuples(st.sampled_from([None, 0, 1]), st.sampled_from([0, 1]),
                 st.sampled_from([None, 0, 1, 2]))
KEYS = {"one": [0], "two": [0, 1], "none": []}


def le_condition(rows: list[tuple]) -> list[bool]:
    return [lv is not None and rv is not None and lv <= rv for _, _, lv, _, _, rv in rows]


def brute_join(kind: str, key: list[int], cond: Any, left: Counter, right: Counter) -> Counter:
    out: Counter = Counter()
    right_hit: dict[tuple, bool] = {}
    for lrow, lc in left.items():
        if lc <= 0:
            continue
        hit = False
        for rrow, rc in right.items():
            if rc <= 0:
                continue
            if all(lrow[i] is not None and lrow[i] == rrow[i] for i in key) and \
                    (cond is None or cond([lrow + rrow])[0]):
                out[lrow + rrow] += lc * rc
                hit = True
                right_hit[rrow] = True
        if not hit and kind in ("left", "full"):
            out[lrow + (None,) * 3] += lc
    if kind in ("right", "full"):
        for rrow, rc in right.items():
            if rc > 0 and rrow not in right_hit:
                out[(None,) * 3 + rrow] += rc
    return out


@pytest.mark.parametrize("kind", ["inner", "left", "right", "full"])
@pytest.mark.parametrize("keys", list(KEYS))
@pytest.mark.parametrize("with_cond", [False, True])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matches_brute_force_across_epochs_and_restart(kind, keys, with_cond, data):
    key = KEYS[keys]
    cond = le_condition if with_cond else None
    epochs = draw_epochs(data, ROWS, ROWS)
    cut = data.draw(st.integers(0, len(epochs)))
    check_run(lambda lt, rt: HashJoin(kind, key, key, 3, 3, cond, lt, rt, chunk_size=3),
              len(key), epochs, cut,
              lambda lc, rc: brute_join(kind, key, cond, lc, rc), chunk_size=3)
