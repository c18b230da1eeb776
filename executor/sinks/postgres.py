"""The `postgres` sink: a view's changes into a PostgreSQL table.

`type = 'upsert'` (needs `primary_key`): an insert or update is
`INSERT ... ON CONFLICT (key) DO UPDATE`, a delete `DELETE ... WHERE key = ...`;
both are idempotent, so the rows an epoch replays after a crash leave the
target equal to the view. `type = 'append-only'`: inserts only (the input must
be append-only, or `force_append_only = 'true'`).

Each checkpoint is one transaction: the epoch's changes are sent in batches
(`executemany`, consecutive changes of one kind together, in order) as they
arrive and committed at the checkpoint barrier, before the epoch commits. If
the connection fails, the writer reconnects (every second, the errors counted in
`sys.sinks`) and sends the epoch's changes again; the checkpoint waits for it.
The target table must exist and have every column of the sink (checked at
CREATE SINK, with the connection itself).
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from typing import Any

from executor.message import DELETE, UPDATE_DELETE, UPDATE_INSERT
from executor.sinks.base import Sink, SinkMetrics, SinkSpec, SinkWriter, bad_option, register
from planner.errors import ProgrammingError

CONNECT_TIMEOUT_S = 10
RETRY_S = 1.0
_PLAIN = (type(None), bool, int, float, str, decimal.Decimal, dt.datetime, dt.date, dt.time,
          bytes)


def _conninfo(opts: dict[str, str]) -> dict[str, Any]:
    return {"host": opts.get("host", "127.0.0.1"), "port": int(opts.get("port", "5432")),
            "user": opts.get("user", "postgres"), "password": opts.get("password", ""),
            "dbname": opts.get("database", "postgres"), "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "sqlstream-sink"}


def _table(opts: dict[str, str]) -> tuple[str, ...]:
    name = opts.get("table")
    if not name:
        raise bad_option("table", "required: the target table")
    schema = opts.get("schema.name")
    return (schema, name) if schema else tuple(name.split(".", 1))


def _kind(opts: dict[str, str]) -> str:
    kind = opts.get("type", "upsert").lower()
    if kind not in ("upsert", "append-only"):
        raise bad_option("type", f"expected 'upsert' or 'append-only', got '{kind}'")
    return kind


def _keys(spec: SinkSpec) -> list[int]:
    names = [c.lower() for c, _ in spec.columns]
    out = []
    for part in [p.strip().lower() for p in spec.options.get("primary_key", "").split(",")
                 if p.strip()]:
        if part not in names:
            raise bad_option("primary_key", f'the sink has no column "{part}"')
        out.append(names.index(part))
    return out


def _validate(spec: SinkSpec) -> None:
    import psycopg
    opts = spec.options
    kind = _kind(opts)
    table = _table(opts)
    keys = _keys(spec)
    if kind == "upsert" and not keys:
        raise bad_option("primary_key", "required by type = 'upsert': the key columns")
    force = opts.get("force_append_only", "false").lower() == "true"
    if kind == "append-only" and not spec.append_only and not force:
        raise ProgrammingError(
            "the sink's input has updates or deletes, which type = 'append-only' cannot "
            "write: use type = 'upsert' with primary_key, or force_append_only = 'true'",
            "22023")
    try:
        conn = psycopg.connect(**_conninfo(opts))
    except psycopg.Error as e:
        raise ProgrammingError(f"cannot connect to PostgreSQL at {opts.get('host')}:"
                               f"{opts.get('port', '5432')}: {str(e).strip()}",
                               "08001") from None
    with conn:
        row = conn.execute("SELECT to_regclass(%s)::oid", [".".join(
            f'"{p}"' for p in table)]).fetchone()
        if row is None or row[0] is None:
            raise ProgrammingError(f'the sink\'s target table "{".".join(table)}" does not '
                                   "exist", "42P01")
        have = {r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
            "AND NOT attisdropped", [row[0]])}
        missing = [c for c, _ in spec.columns if c not in have]
        if missing:
            raise ProgrammingError(
                f'the sink\'s target table "{".".join(table)}" has no column '
                + ", ".join(f'"{c}"' for c in missing), "42703")


def _value(v: Any) -> Any:
    if isinstance(v, _PLAIN):
        return v
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    return str(v)


class PostgresWriter(SinkWriter):
    def __init__(self, spec: SinkSpec, metrics: SinkMetrics) -> None:
        from psycopg import sql
        self.metrics = metrics
        self.info = _conninfo(spec.options)
        self.upsert = _kind(spec.options) == "upsert"
        self.inserts_only = not self.upsert
        self.keys = _keys(spec)
        names = [c for c, _ in spec.columns]
        table = sql.Identifier(*_table(spec.options))
        cols = sql.SQL(", ").join(map(sql.Identifier, names))
        marks = sql.SQL(", ").join(sql.Placeholder() * len(names))
        insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(table, cols, marks)
        if self.upsert:
            others = [n for i, n in enumerate(names) if i not in self.keys]
            key = sql.SQL(", ").join(sql.Identifier(names[i]) for i in self.keys)
            action = sql.SQL("DO UPDATE SET {}").format(sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in others)) \
                if others else sql.SQL("DO NOTHING")
            insert = sql.SQL("{} ON CONFLICT ({}) {}").format(insert, key, action)
            self.delete = sql.SQL("DELETE FROM {} WHERE {}").format(table, sql.SQL(" AND ").join(
                sql.SQL("{} = %s").format(sql.Identifier(names[i])) for i in self.keys))
        self.insert = insert
        self.conn: Any = None
        self.epoch: list[tuple[bool, list[tuple]]] = []  # this epoch's batches, sent

    def _batches(self, ops: list[int], rows: list[tuple]) -> list[tuple[bool, list[tuple]]]:
        """(is_delete, parameter rows) for runs of one kind, in order."""
        out: list[tuple[bool, list[tuple]]] = []
        keys = self.keys
        for i, (op, row) in enumerate(zip(ops, rows)):
            gone = op in (DELETE, UPDATE_DELETE)
            if gone and op == UPDATE_DELETE and i + 1 < len(rows) and \
                    ops[i + 1] == UPDATE_INSERT and all(rows[i + 1][k] == row[k] for k in keys):
                continue  # the upsert of the new row follows
            params = tuple(_value(row[k]) for k in keys) if gone else tuple(map(_value, row))
            if out and out[-1][0] == gone:
                out[-1][1].append(params)
            else:
                out.append((gone, [params]))
        return out

    def _send(self, batches: list[tuple[bool, list[tuple]]]) -> None:
        import psycopg
        if self.conn is None:
            self.conn = psycopg.connect(**self.info)
        with self.conn.cursor() as cur:
            for gone, params in batches:
                cur.executemany(self.delete if gone else self.insert, params)

    def _retry(self, e: Exception) -> None:
        """The connection failed: count it, drop it, wait, and send the epoch's
        changes again on a new one (the old transaction was rolled back)."""
        self.metrics.error(f"postgres: {str(e).strip()}")
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:
            pass
        self.conn = None
        time.sleep(RETRY_S)
        self._send(self.epoch)

    def write(self, ops: list[int], rows: list[tuple]) -> None:
        import psycopg
        if not self.upsert:
            ops = [0] * len(rows)
        batches = self._batches(ops, rows)
        self.epoch.extend(batches)
        try:
            self._send(batches)
        except psycopg.OperationalError as e:
            self._until_sent(e)
        except psycopg.Error as e:  # a row the target refuses: the graph fails
            self.metrics.error(f"postgres: {str(e).strip()}")
            raise

    def _until_sent(self, e: Exception) -> None:
        import psycopg
        while True:
            try:
                self._retry(e)
                return
            except psycopg.OperationalError as again:
                e = again

    def flush(self) -> None:
        import psycopg
        while True:
            try:
                if self.conn is not None:
                    self.conn.commit()
                self.epoch = []
                return
            except psycopg.OperationalError as e:
                self._until_sent(e)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None


register(Sink("postgres", _validate, PostgresWriter))
