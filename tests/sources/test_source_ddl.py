"""CREATE / SHOW / DESCRIBE / DROP / ALTER SOURCE and CREATE TABLE WITH (connector)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import Error
from tests.sources.conftest import Sql

DATAGEN = """CREATE SOURCE s (id INT, v BIGINT) WITH (
    connector = 'datagen', fields.id.kind = 'sequence', fields.id.start = '1',
    fields.id.end = '3000', fields.v.kind = 'random', fields.v.min = '1', fields.v.max = '9',
    fields.v.seed = '5', datagen.rows.per.second = '1000000', datagen.split.num = '2')"""


def test_source_in_catalog(sql: Sql) -> None:
    sql(DATAGEN)
    assert sql("SHOW SOURCES") == [("s",)]
    assert sql("SHOW TABLES") == []
    assert [r[:2] for r in sql("DESCRIBE s")] == [("id", "integer"), ("v", "bigint")]
    with pytest.raises(Error) as e:
        sql(DATAGEN)
    assert e.value.sqlstate == "42P07"
    sql(DATAGEN.replace("CREATE SOURCE s", "CREATE SOURCE IF NOT EXISTS s"))


def test_each_view_reads_the_whole_source(sql: Sql) -> None:
    sql(DATAGEN)
    sql("CREATE MATERIALIZED VIEW a AS SELECT count(*) AS n, sum(id) AS s FROM s")
    sql("CREATE MATERIALIZED VIEW b AS SELECT v, count(*) AS n FROM s WHERE id <= 1000 GROUP BY v")
    assert sql.until("SELECT * FROM a", lambda r: r == [(3000, 4501500)]) == [(3000, 4501500)]
    rows = sql.until("SELECT sum(n) FROM b", lambda r: r == [(1000,)])
    assert rows == [(1000,)]
    assert [r[0] for r in sql("SELECT v FROM b ORDER BY v")] == list(range(1, 10))


def test_drop_source_needs_cascade(sql: Sql) -> None:
    sql(DATAGEN)
    sql("CREATE MATERIALIZED VIEW a AS SELECT count(*) AS n FROM s")
    with pytest.raises(Error) as e:
        sql("DROP SOURCE s")
    assert e.value.sqlstate == "2BP01"
    sql("DROP SOURCE s CASCADE")
    assert sql("SHOW SOURCES") == [] and sql("SHOW MATERIALIZED VIEWS") == []
    sql("DROP SOURCE IF EXISTS s")
    with pytest.raises(Error) as e:
        sql("DROP SOURCE s")
    assert e.value.sqlstate == "42P01"


@pytest.mark.parametrize("stmt, words, state", [
    ("CREATE SOURCE x (a INT) WITH (connector = 'kafkaesque')", "connector", "22023"),
    ("CREATE SOURCE x (a INT) WITH (connector = 'datagen', fields.b.kind = 'sequence')",
     "fields.b.kind", "22023"),
    ("CREATE SOURCE x (a INT) WITH (connector = 'posix_fs', posix_fs.root = '/no/such/dir',"
     " match_pattern = '*.csv') FORMAT PLAIN ENCODE CSV (without_header = 'true')",
     "posix_fs.root", "22023"),
    ("CREATE SOURCE x (a INT) WITH (connector = 'datagen', source_rate_limit = 'x')",
     "source_rate_limit", "22023"),
    ("CREATE SOURCE x (a INT)", "connector", "42601"),
    ("CREATE SOURCE x (a INT) WITH (connector = 'datagen') NONSENSE", "NONSENSE", "42601"),
])
def test_bad_create_names_the_problem(sql: Sql, stmt: str, words: str, state: str) -> None:
    with pytest.raises(Error) as e:
        sql(stmt)
    assert words in str(e.value)
    assert e.value.sqlstate == state
    assert sql("SHOW SOURCES") == []


def test_rate_limit_and_alter(sql: Sql) -> None:
    sql("""CREATE SOURCE r (id INT) WITH (connector = 'datagen', fields.id.kind = 'sequence',
           datagen.rows.per.second = '1000000', source_rate_limit = '0')""")
    sql("CREATE MATERIALIZED VIEW c AS SELECT count(*) AS n FROM r")
    sql("FLUSH")
    assert sql("SELECT n FROM c") == [(0,)]  # a limit of 0 pauses the source
    sql("ALTER SOURCE r SET source_rate_limit = 200")
    rows = sql.until("SELECT n FROM c", lambda r: r[0][0] >= 100)
    assert rows[0][0] >= 100
    sql("ALTER SOURCE r SET source_rate_limit = 0")
    sql("FLUSH")
    n1 = sql("SELECT n FROM c")[0][0]
    import time
    time.sleep(0.5)
    sql("FLUSH")
    assert sql("SELECT n FROM c")[0][0] == n1
    sql("ALTER SOURCE r SET source_rate_limit = DEFAULT")
    assert sql.until("SELECT n FROM c", lambda r: r[0][0] > n1 + 10000)[0][0] > n1 + 10000


def test_table_with_connector_stores_rows_and_takes_dml(sql: Sql, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,name\n1,a\n2,b\n")
    sql(f"""CREATE TABLE t (id INT, name VARCHAR) WITH (connector = 'posix_fs',
            posix_fs.root = '{tmp_path}', match_pattern = '*.csv') FORMAT PLAIN ENCODE CSV (
            without_header = 'false', delimiter = ',')""")
    assert sql("SHOW TABLES") == [("t",)]
    assert sql.until("SELECT * FROM t ORDER BY id", lambda r: len(r) == 2) == [(1, "a"), (2, "b")]
    sql("INSERT INTO t VALUES (3, 'c')")
    (tmp_path / "b.csv").write_text("id,name\n4,d\n")
    rows = sql.until("SELECT * FROM t ORDER BY id", lambda r: len(r) == 4)
    assert rows == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
