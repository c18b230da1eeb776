"""SQLAlchemy 2 with the postgresql+psycopg dialect: connect, text(), inspection."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import create_engine, inspect, text

from tests.pgwire.conftest import RunningServer, needs_engine


@needs_engine
def test_text_queries_and_inspection(server: RunningServer) -> None:
    engine = create_engine(f"postgresql+psycopg://root@127.0.0.1:{server.port}/dev",
                           connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as c:
            c.execute(text("CREATE TABLE sa_t (id INT PRIMARY KEY, label VARCHAR, "
                           "price NUMERIC(10, 2), at TIMESTAMP)"))
            c.execute(text("INSERT INTO sa_t VALUES (:i, :l, :p, NULL)"),
                      [{"i": 1, "l": "a", "p": Decimal("1.50")},
                       {"i": 2, "l": "b", "p": Decimal("2.25")},
                       {"i": 3, "l": "b", "p": None}])
            c.execute(text("CREATE MATERIALIZED VIEW sa_v AS SELECT label, count(*) AS n, "
                           "sum(price) AS total FROM sa_t GROUP BY label"))
            c.execute(text("FLUSH"))
        with engine.connect() as c:
            rows = c.execute(text("SELECT label FROM sa_t WHERE id = :i"), {"i": 2}).all()
            assert rows == [("b",)]
            view = c.execute(text("SELECT label, n, total FROM sa_v ORDER BY label")).all()
            assert view == [("a", 1, Decimal("1.50")), ("b", 2, Decimal("2.25"))]
            names = c.execute(text("SELECT name FROM sys.relations WHERE name LIKE 'sa_%' "
                                   "ORDER BY name")).scalars().all()
            assert names == ["sa_t", "sa_v"]
        insp = inspect(engine)
        assert "sa_t" in insp.get_table_names()
        assert "sa_v" not in insp.get_table_names()
        assert "sa_v" in insp.get_materialized_view_names()
        cols = {c["name"]: str(c["type"]) for c in insp.get_columns("sa_t")}
        assert cols == {"id": "INTEGER", "label": "VARCHAR", "price": "NUMERIC(10, 2)",
                        "at": "TIMESTAMP"}
        view_cols = [c["name"] for c in insp.get_columns("sa_v")]
        assert view_cols == ["label", "n", "total"]
    finally:
        engine.dispose()
