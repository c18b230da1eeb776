"""TemporalJoin: each probe row joins, once, the version rows as of the barrier closing
the epoch it arrived in; its state (versions and the memo of emitted joins) survives a
restart."""

from __future__ import annotations

from executor.message import Chunk
from executor.operators.temporal_join import TemporalJoin
from storage.state_table import StateTable
from tests.executor.harness import MockSource, chunks_between_barriers, run
from tests.executor.operators.support import StateSink


def make(sink: StateSink, kind: str = "inner") -> TemporalJoin:
    # probe (id, k) joins versions (k, v) on k
    return TemporalJoin(kind, [1], [0], 2, 2, None, StateTable("memo", sink, 1),
                        StateTable("versions", sink, 1), chunk_size=4)


def restored(sink: StateSink, kind: str = "inner") -> TemporalJoin:
    memo, versions = StateTable("memo", StateSink(), 1), StateTable("versions", StateSink(), 1)
    memo.load(sink.committed("memo"))
    versions.load(sink.committed("versions"))
    return TemporalJoin(kind, [1], [0], 2, 2, None, memo, versions, chunk_size=4)


def drive(op: TemporalJoin, epochs: list[tuple[str | None, str | None]]) -> list[Chunk]:
    """One epoch per entry: (probe chunk, version chunk), in separate epochs' order."""
    probe, versions = MockSource(), MockSource()
    for p, v in epochs:
        if p:
            probe.push_chunk(p)
        if v:
            versions.push_chunk(v)
        probe.push_barrier()
        versions.push_barrier()
    return chunks_between_barriers(run(lambda a, b: op.execute([a, b]), probe, versions,
                                       stream_key=[0]))


def test_version_changes_never_touch_emitted_rows_and_survive_restart() -> None:
    sink = StateSink()
    out = drive(make(sink), [
        (None, "+ 1 a\n+ 1 z"),
        ("+ 10 1\n+ 11 2", None),
        (None, "U- 1 a\nU+ 1 b\n- 1 z"),
    ])
    assert [c.ops for c in out] == [[], [0, 0], []]
    assert sorted(out[1].rows) == [(10, 1, 1, "a"), (10, 1, 1, "z")]
    out = drive(restored(sink), [("+ 12 1\n- 10 1", None)])
    assert out[0] == Chunk.from_pretty("""
      + 12 1 1 b
      - 10 1 1 a
      - 10 1 1 z
    """)


def test_left_join_pads_and_copies_keep_their_own_versions() -> None:
    out = drive(make(StateSink(), "left"), [
        ("+ 10 1\n+ 11 .", None),
        (None, "+ 1 a"),
        ("+ 10 1", None),
        ("- 10 1\n- 10 1\n- 11 .", None),
    ])
    assert out[0] == Chunk.from_pretty("+ 10 1 . .\n+ 11 . . .")
    assert out[1] == Chunk([], [])
    assert out[2] == Chunk.from_pretty("+ 10 1 1 a")
    # Both copies of (10, 1) go, each with what it was joined with.
    assert sorted(out[3].rows, key=repr) == sorted(
        [(10, 1, 1, "a"), (10, 1, None, None), (11, None, None, None)], key=repr)


def test_probe_rows_see_the_versions_as_of_their_epochs_barrier() -> None:
    out = drive(make(StateSink()), [
        ("+ 10 1", "+ 1 a"),
        ("+ 11 1", "U- 1 a\nU+ 1 b"),
        (None, "- 1 b"),
    ])
    assert out[0] == Chunk.from_pretty("+ 10 1 1 a")
    assert out[1] == Chunk.from_pretty("+ 11 1 1 b")
    assert out[2] == Chunk([], [])
