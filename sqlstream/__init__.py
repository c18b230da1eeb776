"""sqlstream: a streaming SQL database with incrementally maintained materialized views.

    import sqlstream
    with sqlstream.connect() as conn:
        conn.execute("CREATE TABLE t (k int, v int)")
        conn.execute("CREATE MATERIALIZED VIEW s AS SELECT k, sum(v) FROM t GROUP BY k")
        conn.execute("INSERT INTO t VALUES (1, 2), (1, 3); FLUSH")
        print(conn.execute("SELECT * FROM s").fetchall())
"""

from planner.errors import (DatabaseError, DataError, Error, IntegrityError, InterfaceError,
                            InternalError, NotSupportedError, OperationalError, ProgrammingError,
                            Warning)
from sqlstream.dbapi import Connection, Cursor, apilevel, connect, paramstyle, threadsafety

__version__ = "0.1.0"

__all__ = ["connect", "Connection", "Cursor", "Error", "Warning", "InterfaceError",
           "DatabaseError", "DataError", "OperationalError", "IntegrityError", "InternalError",
           "ProgrammingError", "NotSupportedError", "apilevel", "threadsafety", "paramstyle"]
