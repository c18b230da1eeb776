"""Statement splitting and keyword scanning for the simple query protocol."""

from __future__ import annotations

from sqlstream.pgwire import sqltext


def test_split_honours_quotes_and_comments() -> None:
    sql = "SELECT ';'; -- x; y\nSELECT $$a;b$$ ; /* c; */ SELECT \"a;b\";;"
    pieces = sqltext.split_statements(sql)
    assert [p.strip() for _, p in pieces] == [
        "SELECT ';'", "-- x; y\nSELECT $$a;b$$", "/* c; */ SELECT \"a;b\""]
    assert all(sql[off:off + len(p)] == p for off, p in pieces)


def test_empty_and_keywords() -> None:
    assert sqltext.is_empty(" ; -- only a comment\n /* and this */ ;")
    assert not sqltext.is_empty("SELECT 1")
    assert sqltext.leading_words("/* c */ start transaction read only") == ["START", "TRANSACTION"]
    assert sqltext.max_param("SELECT $1, '$9', $2 -- $7") == 2


def test_returns_rows() -> None:
    assert sqltext.returns_rows("WITH x AS (SELECT 1) SELECT * FROM x")
    assert sqltext.returns_rows("INSERT INTO t VALUES (1) RETURNING id")
    assert not sqltext.returns_rows("INSERT INTO t VALUES ('RETURNING')")
    assert not sqltext.returns_rows("CREATE TABLE t (a INT)")
