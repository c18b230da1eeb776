"""The SQL dialect sqlstream parses: RisingWave's (PostgreSQL's), with calls whose
arguments sqlglot rewrites at parse time kept as written.

sqlglot turns `to_char(ts, 'YYYY-MM-DD')` into a strftime pattern while parsing and
drops the PostgreSQL pattern (`HH` stays literal text, say). The binder and the batch
translation need the pattern as written, so `to_char` stays a plain call here.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.risingwave import RisingWave


def _plain_call(name: str) -> Any:
    def build(args: list[exp.Expression]) -> exp.Expression:
        return exp.Anonymous(this=name, expressions=args)
    return build


class Sqlstream(RisingWave):
    """Registered with sqlglot as the dialect "sqlstream"."""

    class Parser(RisingWave.Parser):
        FUNCTIONS = {**RisingWave.Parser.FUNCTIONS, "TO_CHAR": _plain_call("to_char")}


NAME = "sqlstream"
