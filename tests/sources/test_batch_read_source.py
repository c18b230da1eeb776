"""A batch SELECT naming a source: a source stores nothing, so there is nothing
to read; the error says so (0A000) and how to keep the rows instead."""

from __future__ import annotations

import pytest

from sqlstream import Error
from tests.sources.conftest import Sql

DATAGEN = ("CREATE SOURCE s (v INT) WITH (connector = 'datagen', fields.v.kind = 'sequence', "
           "fields.v.start = '1', fields.v.end = '10', datagen.rows.per.second = '1000')")


@pytest.mark.parametrize("query", ["SELECT * FROM s", "SELECT count(*) FROM public.s",
                                   "SELECT x.n FROM (SELECT v AS n FROM s) AS x"])
def test_batch_read_of_a_source_is_not_supported(sql: Sql, query: str) -> None:
    sql(DATAGEN)
    with pytest.raises(Error) as e:
        sql(query)
    assert e.value.sqlstate == "0A000"
    message = str(e.value)
    assert 'source "s"' in message and "stores nothing" in message
    assert "materialized view" in message and "CREATE TABLE" in message
    assert e.value.position is not None and query[e.value.position - 1:].startswith("s")


def test_a_view_and_a_table_with_a_connector_are_read(sql: Sql) -> None:
    sql(DATAGEN)
    sql("CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n FROM s")
    sql(DATAGEN.replace("CREATE SOURCE s", "CREATE TABLE t"))
    assert sql.until("SELECT n FROM v", lambda r: r == [(10,)]) == [(10,)]
    assert sql.until("SELECT count(*) FROM t", lambda r: r == [(10,)]) == [(10,)]
    with pytest.raises(Error) as e:
        sql("SELECT * FROM nope")
    assert e.value.sqlstate == "42P01"
