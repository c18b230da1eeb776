"""SQLAlchemy 2 with the postgresql+psycopg dialect: connect, text(), inspection."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.pgwire.conftest import RunningServer, needs_engine


@needs_engine
@pytest.mark.xfail(strict=False, reason="engine: SHOW transaction isolation level, which the "
                   "dialect asks on connect, is not answered yet")
def test_text_queries_and_inspection(server: RunningServer) -> None:
    engine = create_engine(f"postgresql+psycopg://root@127.0.0.1:{server.port}/dev",
                           connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE sa_t (id INT PRIMARY KEY, label VARCHAR)"))
            c.execute(text("INSERT INTO sa_t VALUES (:i, :l)"), [{"i": 1, "l": "a"},
                                                                 {"i": 2, "l": "b"}])
            c.execute(text("FLUSH"))
        with engine.connect() as c:
            rows = c.execute(text("SELECT label FROM sa_t WHERE id = :i"), {"i": 2}).all()
            assert rows == [("b",)]
        insp = inspect(engine)
        assert "sa_t" in insp.get_table_names()
        cols = {c["name"]: str(c["type"]) for c in insp.get_columns("sa_t")}
        assert cols == {"id": "INTEGER", "label": "VARCHAR"}
    finally:
        engine.dispose()
