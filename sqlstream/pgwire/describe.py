"""What Parse and Describe announce before a statement runs: parameter types (from the
columns they meet, via the planner's pg_compat analysis) and result columns (by running
the query with NULL parameters and LIMIT 0)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from planner import pg_compat
from planner import types as T
from planner.errors import Error
from sqlstream.pg_catalog import relation_columns
from sqlstream.pgwire import codec
from sqlstream.result import Column

if TYPE_CHECKING:
    from sqlstream.pgwire.server import Server


def infer_param_oids(db: Any, sql: str, oids: list[int]) -> list[int]:
    """Fill the unspecified (0) parameter OIDs; what cannot be inferred becomes text."""
    try:
        inferred = pg_compat.infer_param_types(sql, relation_columns(db))
    except Exception:  # noqa: BLE001 - unparsable SQL fails later, at Execute, with position
        inferred = {}
    arrays = {int(m.group(1)): _array_oid(m.group(2)) for m in _ARRAY_CAST.finditer(sql)}
    out = []
    for i, oid in enumerate(oids):
        if oid == 0:
            t = inferred.get(i + 1)
            oid = (codec.wire_oid(t) if t is not None
                   else arrays.get(i + 1) or codec.OID_TEXT)
        out.append(oid)
    return out


# `$1::int[]`, `$2::pg_catalog.oid[]`: a parameter cast to an array type is that array.
_ARRAY_CAST = re.compile(r"\$(\d+)\s*::\s*(?:pg_catalog\s*\.\s*)?([a-z][\w ]*?)\s*\[\s*\]",
                         re.IGNORECASE)
_CATALOG_ARRAYS = {"oid": 1028, "regtype": 1028, "regclass": 1028, "text": 1009, "name": 1009}


def _array_oid(element: str) -> int | None:
    element = element.lower()
    if element in _CATALOG_ARRAYS:
        return _CATALOG_ARRAYS[element]
    t = T.type_from_name(element)
    return T.ARRAY_OIDS.get(t.pg_oid) if t is not None else None


def describe_columns(server: Server, session: Any, sql: str, nparams: int) -> list[Column] | None:
    """Result columns of a row-returning statement without its side effects."""
    probe = pg_compat.limit_zero(sql)
    if probe is None:
        return None
    try:
        results = server.execute_blocking(session, probe, [None] * nparams)
    except Error:
        results = server.execute_blocking(session, sql, [None] * nparams)
    for r in results:
        r.close()  # only the columns are wanted
    return results[-1].columns if results else None
