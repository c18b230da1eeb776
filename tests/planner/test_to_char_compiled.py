"""to_char with a constant pattern is compiled to one str.format (or isoformat) call:
its text must be what PostgreSQL's template patterns give, written out by hand here."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.expressions import InputRef, Literal, compile_projection
from planner.expressions.builtins_format import format_template, to_char
from planner.expressions.nodes import Call
from planner.types import DATE, TIMESTAMP, TIMESTAMPTZ, VARCHAR


def pg(v: dt.datetime, pattern: str) -> str:
    """The expected text, spelled out field by field for the patterns tested."""
    two = lambda n: "%02d" % n  # noqa: E731
    return {
        "YYYY-MM-DD": "%04d-%s-%s" % (v.year, two(v.month), two(v.day)),
        "yyyy-mm-dd": "%04d-%s-%s" % (v.year, two(v.month), two(v.day)),
        "HH24:MI:SS": f"{two(v.hour)}:{two(v.minute)}:{two(v.second)}",
        "FMDD.FMMM.YYYY": f"{v.day}.{v.month}.{v.year:04d}",
        'YYYY "{x}" US': "%04d {x} %06d" % (v.year, v.microsecond),
        "HH:MI Mon": "%02d:%s %s" % ((v.hour + 11) % 12 + 1, two(v.minute),
                                    v.strftime("%b")),
        "DD{MM}": f"{two(v.day)}{{{two(v.month)}}}",
    }[pattern]


PATTERNS = ["YYYY-MM-DD", "yyyy-mm-dd", "HH24:MI:SS", "FMDD.FMMM.YYYY", 'YYYY "{x}" US',
            "HH:MI Mon", "DD{MM}"]
TIMES = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))


def compiled(pattern: str, type_=TIMESTAMP):  # type: ignore[no-untyped-def]
    call = Call("to_char", (InputRef(0, type_), Literal(pattern, VARCHAR)), VARCHAR)
    return compile_projection([call])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), TIMES), max_size=8), st.sampled_from(PATTERNS),
       st.booleans())
def test_compiled_pattern_matches_postgres(values: list, pattern: str, aware: bool) -> None:
    if aware:
        values = [None if v is None else v.replace(tzinfo=dt.timezone.utc) for v in values]
    project = compiled(pattern, TIMESTAMPTZ if aware else TIMESTAMP)
    got = [r[0] for r in project([(v,) for v in values])]
    assert got == [None if v is None else pg(v, pattern) for v in values]
    assert [to_char(v, pattern) for v in values if v is not None] == [
        pg(v, pattern) for v in values if v is not None]


def test_only_field_patterns_become_templates() -> None:
    assert format_template("YYYY-MM-DD") == "{0.year:04d}-{0.month:02d}-{0.day:02d}"
    assert format_template("HH:MI Mon") is None
    assert "isoformat" in compiled("YYYY-MM-DD").__doc__
    assert ".format(" in compiled("HH24:MI").__doc__
    assert ".format(" not in compiled("HH:MI Mon").__doc__
    assert to_char(dt.date(2020, 2, 3), "FMDD.FMMM.YYYY") == "3.2.2020"
    assert compiled("YYYY-MM-DD")([(None,)]) == [(None,)]
    assert DATE.name == "date"
