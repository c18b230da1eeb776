"""State handed to the checkpoint store comes back from it equal: written without
the pickle memo, shared values load as equal copies, NaN as the shared NaN, and a
cyclic value is refused rather than looped over; dirty keys are committed in the
order they were first written."""

from __future__ import annotations

import asyncio
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from planner.nan import NAN, NUMERIC_NAN
from storage.checkpoint_store import CheckpointStore, dumps
from storage.state_table import StateTable


def test_dumps_round_trips_state_shapes() -> None:
    row = (1, "a", Decimal("2.50"), None)
    value = [(row, 3), {"x": [row, row]}, (NAN, NUMERIC_NAN), frozenset({1, 2})]
    back = pickle.loads(dumps(value))
    assert back == value
    assert back[2][0] is NAN and back[2][1] is NUMERIC_NAN
    assert back[1]["x"][0] == back[1]["x"][1] == row


def test_dumps_refuses_a_cycle() -> None:
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError):
        dumps(cyclic)


def test_entries_survive_a_commit_and_reload(tmp_path: Path) -> None:
    async def run() -> list:
        store = CheckpointStore(str(tmp_path / "c.db"))
        await store.open()
        st = StateTable("t", store)
        for i in range(3000):
            st.put((i % 50, i), (i, "v" * (i % 3)))
        st.delete((0, 0))
        st.commit(1)
        await store.commit(1)
        st.put((1, 1), ("changed",))
        st.commit(2)
        await store.commit(2)
        loaded = await store.load_state("t")
        await store.close()
        return loaded

    loaded = {k: v for _vn, k, v in asyncio.run(run())}
    want = {(i % 50, i): (i, "v" * (i % 3)) for i in range(1, 3000)}
    want[(1, 1)] = ("changed",)
    assert loaded == want


class _Recorder:
    def __init__(self) -> None:
        self.keys: list[tuple] = []

    def stage_entries(self, epoch: int, table_id: str, entries: list) -> None:
        self.keys.extend(k for k, _v in entries)


def test_dirty_keys_are_committed_in_first_write_order() -> None:
    sink = _Recorder()
    st = StateTable("t", sink)  # type: ignore[arg-type]
    keys = [(k,) for k in (907, 3, 55, 12, 3, 7001, 55)]
    for k in keys:
        st.put(k, 1)
    st.commit(1)
    assert sink.keys == [(907,), (3,), (55,), (12,), (7001,)]
