"""datagen: sequences, bounded ends, splits, determinism, positions, option errors."""

from __future__ import annotations

import pytest

from executor.connectors import SourceSpec, connector
from planner import types as T
from planner.errors import ProgrammingError

COLS = [("id", T.INT32), ("v", T.INT64), ("s", T.VARCHAR), ("ts", T.TIMESTAMP)]
OPTS = {"connector": "datagen", "fields.id.kind": "sequence", "fields.id.start": "1",
        "fields.id.end": "100", "fields.v.min": "5", "fields.v.max": "9", "fields.v.seed": "7",
        "fields.s.length": "4", "datagen.base.time.us": "1700000000000000"}


def read_all(reader, chunk: int = 7) -> list[tuple]:
    rows: list[tuple] = []
    while not reader.finished:
        rows.extend(reader.read(chunk))
    return rows


def test_sequence_is_complete_and_ends() -> None:
    rows = read_all(connector("datagen").open(SourceSpec(OPTS, COLS)))
    assert sorted(r[0] for r in rows) == list(range(1, 101))
    assert all(5 <= r[1] <= 9 for r in rows)
    assert len({r[1] for r in rows}) == 5  # every value of the range shows up
    assert all(len(r[2]) == 4 for r in rows)


def test_splits_partition_the_rows_between_actors() -> None:
    opts = dict(OPTS, **{"datagen.split.num": "3"})
    parts = [read_all(connector("datagen").open(SourceSpec(opts, COLS, actor_index=i,
                                                              parallelism=2)))
             for i in range(2)]
    ids = sorted(r[0] for p in parts for r in p)
    assert ids == list(range(1, 101))
    whole = {r[0]: r for r in read_all(connector("datagen").open(SourceSpec(OPTS, COLS)))}
    # Row values depend on the row, not on the split layout.
    assert all(whole[r[0]] == r for p in parts for r in p)


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    a = read_all(connector("datagen").open(SourceSpec(OPTS, COLS)))
    b = read_all(connector("datagen").open(SourceSpec(OPTS, COLS)), chunk=13)
    c = read_all(connector("datagen").open(SourceSpec(dict(OPTS, **{"fields.v.seed": "8"}),
                                                      COLS)))
    assert a == b
    assert [r[1] for r in a] != [r[1] for r in c]


def test_restore_resumes_after_the_position() -> None:
    first = connector("datagen").open(SourceSpec(OPTS, COLS))
    head = first.read(30)
    pos = first.position()
    second = connector("datagen").open(SourceSpec(OPTS, COLS))
    second.restore(pos)
    rest = read_all(second)
    assert [r[0] for r in head + rest] == list(range(1, 101))


@pytest.mark.parametrize("opts, name", [
    ({"fields.id.kind": "zigzag"}, "fields.id.kind"),
    ({"fields.nope.kind": "sequence"}, "fields.nope.kind"),
    ({"fields.id.start": "x"}, "start"),
    ({"datagen.split.num": "0"}, "datagen.split.num"),
    ({"datagen.rows.per.second": "fast"}, "datagen.rows.per.second"),
])
def test_bad_options_name_the_option(opts: dict[str, str], name: str) -> None:
    base = {"connector": "datagen", "fields.id.kind": "sequence"}
    with pytest.raises(ProgrammingError) as e:
        connector("datagen").validate(SourceSpec(dict(base, **opts), COLS))
    assert name in str(e.value)
    assert e.value.sqlstate == "22023"
