"""`JOIN t FOR SYSTEM_TIME AS OF PROCTIME()` looks the table up once per probe row, when
it arrives (RisingWave's and Flink's processing-time temporal join)."""

from __future__ import annotations

from typing import Iterator

import pytest

from planner.errors import Error
from sqlstream.database import Database
from sqlstream.session import Session


@pytest.fixture
def s() -> Iterator[Session]:
    db = Database.open(None)
    sess = db.session()
    sess.execute("CREATE TABLE probe (id INT PRIMARY KEY, k INT)")
    sess.execute("CREATE TABLE dim (k INT PRIMARY KEY, v VARCHAR)")
    yield sess
    db.close()


def view(s: Session, name: str = "v") -> list[tuple]:
    return sorted(s.execute(f"SELECT * FROM {name}")[0].rows, key=repr)


def test_a_later_version_change_keeps_rows_already_joined(s: Session) -> None:
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT p.id, d.v FROM probe p "
              "JOIN dim FOR SYSTEM_TIME AS OF PROCTIME() d ON p.k = d.k")
    s.execute("INSERT INTO dim VALUES (1, 'old'), (2, 'two')")
    s.execute("FLUSH")
    s.execute("INSERT INTO probe VALUES (1, 1)")
    s.execute("FLUSH")
    assert view(s) == [(1, "old")]
    s.execute("UPDATE dim SET v = 'new' WHERE k = 1")
    s.execute("FLUSH")
    assert view(s) == [(1, "old")]
    s.execute("INSERT INTO probe VALUES (2, 1)")
    s.execute("FLUSH")
    assert view(s) == [(1, "old"), (2, "new")]
    # Deleting the version row takes nothing back; deleting a probe row takes back
    # exactly what it was joined with.
    s.execute("DELETE FROM dim WHERE k = 1")
    s.execute("DELETE FROM probe WHERE id = 1")
    s.execute("FLUSH")
    assert view(s) == [(2, "new")]
    # An update of a probe row is looked up again as of the update.
    s.execute("UPDATE probe SET k = 2 WHERE id = 2")
    s.execute("FLUSH")
    assert view(s) == [(2, "two")]


def test_left_temporal_join_pads_a_probe_row_with_no_version(s: Session) -> None:
    s.execute("CREATE MATERIALIZED VIEW v AS SELECT p.id, d.v FROM probe p "
              "LEFT JOIN dim FOR SYSTEM_TIME AS OF PROCTIME() d ON p.k = d.k")
    s.execute("INSERT INTO probe VALUES (1, 1)")
    s.execute("FLUSH")
    s.execute("INSERT INTO dim VALUES (1, 'late')")
    s.execute("INSERT INTO probe VALUES (2, 1)")
    s.execute("FLUSH")
    assert view(s) == [(1, None), (2, "late")]


def test_expression_key_and_explain(s: Session) -> None:
    sql = ("SELECT p.id, d.v FROM probe p "
           "JOIN dim FOR SYSTEM_TIME AS OF PROCTIME() d ON p.k % 10 = d.k")
    plan = "\n".join(r[0] for r in s.execute(f"EXPLAIN CREATE MATERIALIZED VIEW v AS {sql}")[0].rows)
    assert "StreamTemporalJoin" in plan and "StreamHashJoin" not in plan
    s.execute(f"CREATE MATERIALIZED VIEW v AS {sql}")
    s.execute("INSERT INTO dim VALUES (3, 'x')")
    s.execute("FLUSH")
    s.execute("INSERT INTO probe VALUES (1, 13)")
    s.execute("FLUSH")
    s.execute("UPDATE dim SET v = 'y' WHERE k = 3")
    s.execute("FLUSH")
    assert view(s) == [(1, "x")]
    # A batch query reads the table as it is now.
    assert s.execute(sql)[0].rows == [(1, "y")]


def test_temporal_joins_that_cannot_look_up_are_refused(s: Session) -> None:
    sys_time = "FOR SYSTEM_TIME AS OF PROCTIME()"
    for sql in [f"SELECT p.id, d.v FROM probe p RIGHT JOIN dim {sys_time} d ON p.k = d.k",
                f"SELECT p.id, d.v FROM probe p FULL JOIN dim {sys_time} d ON p.k = d.k",
                f"SELECT p.id, d.v FROM dim {sys_time} d JOIN probe p ON p.k = d.k",
                f"SELECT p.id, d.v FROM probe p JOIN dim {sys_time} d ON p.k < d.k"]:
        with pytest.raises(Error) as e:
            s.execute(f"CREATE MATERIALIZED VIEW v AS {sql}")
        assert e.value.sqlstate == "0A000", sql
