"""Completion over the catalog of a real embedded database, and highlighting tokens."""

from __future__ import annotations

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.lexers import PygmentsLexer
from pygments.lexers.sql import PostgresLexer

from repl.backend import ColumnMeta, LocalBackend, RelationMeta
from repl.completion import Catalog, SqlCompleter, tables_in_statement, tokenize


@pytest.fixture
def completer(backend: LocalBackend) -> SqlCompleter:
    backend.execute("CREATE TABLE orders (order_id int, amount int, customer_id int)")
    backend.execute("CREATE TABLE customers (customer_id int, name varchar)")
    catalog = Catalog(backend.relations())
    catalog.relations.append(RelationMeta("sys", "probe_only_here", "system table",
                                          [ColumnMeta("actor_id", "integer")]))
    return SqlCompleter(catalog)


def complete(completer: SqlCompleter, text: str, cursor: int | None = None) -> list[str]:
    doc = Document(text, cursor_position=len(text) if cursor is None else cursor)
    return [c.text for c in completer.get_completions(doc, CompleteEvent())]


def test_keywords_follow_the_case_typed(completer: SqlCompleter) -> None:
    assert complete(completer, "SEL") == ["SELECT"]
    assert complete(completer, "sel") == ["select"]


def test_relations_after_from_and_join(completer: SqlCompleter) -> None:
    after_from = complete(completer, "SELECT * FROM ")
    assert sorted(after_from[:2]) == ["customers", "orders"]
    assert "sys.probe_only_here" in after_from
    assert complete(completer, "SELECT * FROM orders o JOIN cu") == ["customers"]
    assert complete(completer, "SELECT * FROM orders, cu") == ["customers"]


def test_schema_qualified_system_tables(completer: SqlCompleter) -> None:
    assert complete(completer, "SELECT * FROM sys.probe_o") == ["probe_only_here"]


def test_columns_of_tables_in_statement(completer: SqlCompleter) -> None:
    got = complete(completer, "SELECT  FROM orders", cursor=7)
    assert got[:3] == ["order_id", "amount", "customer_id"]
    assert "name" not in got
    assert complete(completer, "SELECT * FROM orders WHERE am") == ["amount"]


def test_columns_after_alias_dot(completer: SqlCompleter) -> None:
    text = "SELECT * FROM orders o JOIN customers c ON o.customer_id = c."
    assert complete(completer, text) == ["customer_id", "name"]
    assert complete(completer, "SELECT o.am FROM orders o", cursor=11) == ["amount"]


def test_functions_where_expressions_go(completer: SqlCompleter) -> None:
    assert complete(completer, "SELECT cou") == ["count"]
    assert "coalesce" in complete(completer, "SELECT * FROM orders WHERE co")


def test_completion_only_looks_at_current_statement(completer: SqlCompleter) -> None:
    assert complete(completer, "SELECT 1 FROM customers; SELECT * FROM orders WHERE na") == []


def test_catalog_refresh_sees_new_relation(backend: LocalBackend) -> None:
    catalog = Catalog(backend.relations())
    completer = SqlCompleter(catalog)
    assert complete(completer, "SELECT * FROM fre") == []
    backend.execute("CREATE TABLE fresh (x int)")
    catalog.relations = backend.relations()
    assert complete(completer, "SELECT * FROM fre") == ["fresh"]


def test_tables_in_statement_reads_aliases() -> None:
    tokens = tokenize('SELECT 1 FROM a AS x, sys.b y JOIN "Odd" ON true WHERE z')
    assert tables_in_statement(tokens) == [("a", "x"), ("sys.b", "y"), ("Odd", None)]


def test_highlighting_tokens() -> None:
    lexer = PygmentsLexer(PostgresLexer)
    line = lexer.lex_document(Document("SELECT 'hi', 42 FROM t -- note"))(0)
    styles = {text: style for style, text in line if text.strip()}
    assert "keyword" in styles["SELECT"].lower()
    assert "string" in styles["hi"].lower() or "string" in styles["'"].lower()
    assert "number" in styles["42"].lower()
    assert "comment" in styles["-- note"].lower()


def requested(completer: SqlCompleter, text: str) -> list[str]:
    """Completions on Tab (the menu opened on purpose)."""
    doc = Document(text, cursor_position=len(text))
    event = CompleteEvent(completion_requested=True)
    return [c.text for c in completer.get_completions(doc, event)]


def test_no_keyword_menu_before_a_word_is_started(completer: SqlCompleter) -> None:
    # a blank line, an empty continuation line, a space after a value: nothing opens
    assert complete(completer, "") == []
    assert complete(completer, "SELECT *\n") == []
    assert complete(completer, "SELECT 1 \n  ") == []
    assert complete(completer, "SELECT * FROM orders WHERE amount > 1\n") == []
    # in an expression before a word: the columns only, no keywords or functions
    assert complete(completer, "SELECT * FROM orders WHERE ") == [
        "order_id", "amount", "customer_id"]
    # after a relation in FROM, the clauses that can follow it
    after = complete(completer, "SELECT * FROM orders\n")
    assert after[:3] == ["WHERE", "JOIN", "LEFT"] and "SELECT" not in after
    assert complete(completer, "SELECT * FROM orders o ")[:1] == ["WHERE"]
    # once a word is started, keywords complete as before; Tab lists everything
    assert complete(completer, "SELECT *\nFR") == ["FROM"]
    assert "SELECT" in requested(completer, "") and "CREATE" in requested(completer, "")
    assert "count" in requested(completer, "SELECT * FROM orders WHERE ")
