"""psql's aligned and expanded layouts, value text and error carets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from planner import types as T
from planner.errors import ProgrammingError
from sqlstream.format import (PrintOptions, format_error, format_expanded, format_result,
                              format_rows, format_table, text_width)
from sqlstream.result import Column, StatementResult


def test_table_like_psql() -> None:
    cols = [Column("id", T.INT32), Column("name", T.VARCHAR)]
    text = format_rows(cols, [(1, "alice"), (12345, None)])
    assert text == (
        "  id   | name  \n"
        "-------+-------\n"
        "     1 | alice\n"
        " 12345 | \n"
        "(2 rows)\n"
        "\n")


def test_single_row_footer_and_header_wider_than_values() -> None:
    text = format_rows([Column("?column?", T.INT32)], [(1,)])
    assert text == " ?column? \n----------\n        1\n(1 row)\n\n"


def test_empty_result_keeps_header() -> None:
    text = format_rows([Column("a", T.INT64), Column("b", T.VARCHAR)], [])
    assert text == " a | b \n---+---\n(0 rows)\n\n"


def test_values_use_postgres_text_output() -> None:
    cols = [Column("b", T.BOOLEAN), Column("n", T.DECIMAL), Column("d", T.DATE),
            Column("ts", T.TIMESTAMPTZ), Column("f", T.FLOAT64)]
    row = (True, Decimal("1.50"), dt.date(2024, 1, 2),
           dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), 2.0)
    lines = format_rows(cols, [row, (False, None, None, None, None)]).splitlines()
    assert lines[2] == " t | 1.50 | 2024-01-02 | 2024-01-02 03:04:05+00 | 2"
    assert lines[3] == " f |      |            |                        |  "


def test_null_display_setting() -> None:
    text = format_rows([Column("a", T.VARCHAR)], [(None,)], PrintOptions(null="∅"))
    assert text.splitlines()[2] == " ∅"


def test_multiline_cell_marks_continuation() -> None:
    text = format_rows([Column("a", T.VARCHAR), Column("b", T.INT32)], [("x\nyy", 7)])
    assert text.splitlines()[2:4] == [" x +| 7", " yy | "]


def test_wide_characters_are_two_columns() -> None:
    assert text_width("日本") == 4
    text = format_table(["a"], [["日本"], ["x"]])
    assert text.splitlines()[1] == "------"


def test_command_tag_for_statements_without_rows() -> None:
    assert format_result(StatementResult("INSERT 0 3")) == "INSERT 0 3\n"
    assert format_result(StatementResult("CREATE TABLE")) == "CREATE TABLE\n"


def test_title_is_centred() -> None:
    text = format_table(["Schema", "Name"], [["public", "t"]], title="List")
    assert text.splitlines()[0] == "     List"


def test_expanded_records() -> None:
    text = format_expanded(["first", "second"], [["1", "one"], ["2", "two"]])
    assert text == ("-[ RECORD 1 ]\nfirst  | 1\nsecond | one\n"
                    "-[ RECORD 2 ]\nfirst  | 2\nsecond | two\n")


def test_expanded_record_line_spans_long_values() -> None:
    text = format_expanded(["name"], [["a value that is quite long"]])
    assert text.splitlines()[0] == "-[ RECORD 1 ]" + "-" * 20
    text = format_expanded(["a_very_long_column_x"], [["1"]])
    assert text.splitlines() == ["-[ RECORD 1 ]-------" + "-+-" + "-", "a_very_long_column_x | 1"]


def test_expanded_auto_depends_on_width() -> None:
    cols = [Column("a", T.VARCHAR), Column("b", T.VARCHAR)]
    rows = [("x" * 30, "y" * 30)]
    narrow = format_rows(cols, rows, PrintOptions(expanded="auto", width=40))
    wide = format_rows(cols, rows, PrintOptions(expanded="auto", width=200))
    assert narrow.startswith("-[ RECORD 1 ]")
    assert wide.startswith(" " * 15 + "a" + " " * 15 + " |")


def test_expanded_empty_result() -> None:
    assert format_rows([Column("a", T.INT32)], [], PrintOptions(expanded=True)) == "(0 rows)\n\n"


def test_error_with_caret_under_position() -> None:
    err = ProgrammingError('relation "nope" does not exist', "42P01", 15)
    assert format_error(err, "SELECT * FROM nope") == (
        'ERROR:  relation "nope" does not exist\n'
        "LINE 1: SELECT * FROM nope\n"
        "                      ^\n")


def test_error_on_second_line_and_verbose_sqlstate() -> None:
    err = ProgrammingError("column \"zz\" does not exist", "42703", 17)
    text = format_error(err, "SELECT a,\n  b, zz FROM t", verbose=True)
    assert text.splitlines() == ['ERROR:  42703: column "zz" does not exist',
                                 "LINE 2:   b, zz FROM t",
                                 "              ^"]


def test_error_without_position_has_no_excerpt() -> None:
    err = ProgrammingError("boom", "XX000")
    err.hint = "try again"
    assert format_error(err, "SELECT 1") == "ERROR:  boom\nHINT:  try again\n"


def test_error_on_long_line_is_cut_around_caret() -> None:
    sql = "SELECT " + ", ".join(f"column_{i}" for i in range(20)) + " FROM nope"
    pos = sql.index("nope") + 1
    lines = format_error(ProgrammingError("x", "42P01", pos), sql).splitlines()
    assert lines[1].startswith("LINE 1: ...")
    caret = lines[2].index("^")
    assert lines[1][caret:caret + 4] == "nope"
    assert len(lines[1]) <= len("LINE 1: ...") + 60 + 3
