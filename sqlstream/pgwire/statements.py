"""Running statements for one connection: simple query, the extended-protocol steps
(Parse/Bind/Describe/Execute/Close), transaction status, and result encoding."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence

from planner.errors import Error, ProgrammingError
from sqlstream.pgwire import codec
from sqlstream.pgwire import messages as M
from sqlstream.pgwire import sqltext
from sqlstream.pgwire.describe import describe_columns, infer_param_oids
from sqlstream.pgwire.messages import Payload, ProtocolViolation
from sqlstream.pgwire.portal import Cursors, Portal, Prepared
from sqlstream.result import Column, StatementResult

if TYPE_CHECKING:
    from sqlstream.pgwire.server import Server

log = logging.getLogger("sqlstream.pgwire")

REPORTED_SETTINGS = {"application_name": "application_name", "datestyle": "DateStyle",
                     "intervalstyle": "IntervalStyle", "timezone": "TimeZone",
                     "client_encoding": "client_encoding"}
_SET = re.compile(r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(\w+)\s*(?:=|\s+TO\s+|\s+)\s*(.*?)\s*;?\s*$",
                  re.IGNORECASE | re.DOTALL)
_ROWS_PER_FLUSH = 1000


class StatementRunner:
    def __init__(self, server: Server, session: Any,
                 send: Callable[[bytes], Awaitable[None]] | None = None) -> None:
        self.server = server
        self.session = session
        self.send = send
        self.out: list[bytes] = []
        self.tx_status = "I"
        self.skip_until_sync = False
        self.statements: dict[str, Prepared] = {}
        self.cursors = Cursors()
        self.portals = self.cursors.portals

    # ------------------------------------------------------------ output

    def take_output(self) -> bytes:
        data, self.out = b"".join(self.out), []
        return data

    def pending_bytes(self) -> int:
        return sum(len(b) for b in self.out)

    def fail(self, e: Error, offset: int = 0, extended: bool = True) -> None:
        position = e.position + offset if e.position else None
        self.out.append(M.error_response("ERROR", e.sqlstate, e.message, position,
                                         e.detail, e.hint))
        if self.tx_status == "T":
            self.tx_status = "E"
        self.skip_until_sync = extended

    async def _maybe_flush(self) -> None:
        if self.send is not None and len(self.out) >= _ROWS_PER_FLUSH:
            await self.send(self.take_output())

    # ------------------------------------------------------------ running one statement

    async def run(self, sql: str, params: Sequence[Any] | None,
                  stmt: Prepared | None = None) -> list[StatementResult]:
        """Execute one statement through the engine (or the cursor table), keeping the
        transaction status as PostgreSQL reports it."""
        words = sqltext.leading_words(sql)
        first = words[0] if words else ""
        ends_tx = first in ("COMMIT", "END", "ABORT") or (
            first == "ROLLBACK" and (len(words) < 2 or words[1] not in ("TO",)))
        if self.tx_status == "E" and not ends_tx and not (first == "ROLLBACK"):
            raise Error("current transaction is aborted, commands ignored until end of "
                        "transaction block", "25P02")
        results = await self._dispatch(sql, params, stmt)
        if first in ("BEGIN", "START"):
            self.tx_status = "T"
        elif ends_tx:
            if self.tx_status == "E":
                results = [StatementResult("ROLLBACK")]
            self.tx_status = "I"
        elif first == "ROLLBACK" and self.tx_status == "E":
            self.tx_status = "T"
        for r in results:
            if r.columns is None:
                self._report_setting(sql)
        return results

    async def _dispatch(self, sql: str, params: Sequence[Any] | None,
                        stmt: Prepared | None) -> list[StatementResult]:
        declared = self.cursors.match_declare(sql)
        if declared is not None:
            name, query = declared
            results = await self.server.execute(self.session, query, params)
            return [self.cursors.declare(name, results[-1], stmt or Prepared(query, []))]
        local = self.cursors.try_fetch_or_close(sql)
        if local is not None:
            return [local]
        return await self.server.execute(self.session, sql, params)

    def _report_setting(self, sql: str) -> None:
        m = _SET.match(sql)
        if m and m.group(1).lower() in REPORTED_SETTINGS:
            value = m.group(2).strip("'\"")
            if m.group(1).lower() == "client_encoding":
                value = "UTF8"
            self.out.append(M.parameter_status(REPORTED_SETTINGS[m.group(1).lower()], value))

    # ------------------------------------------------------------ result encoding

    def _row_description(self, columns: list[Column], formats: list[int]) -> bytes:
        fields = []
        for i, c in enumerate(columns):
            fields.append((c.name, codec.wire_oid(c.type), c.type.pg_len, _fmt(formats, i)))
        return M.row_description(fields)

    async def _send_rows(self, columns: list[Column], formats: list[int],
                         rows: list[tuple]) -> None:
        encoders = [codec.encoder(c.type, _fmt(formats, i)) for i, c in enumerate(columns)]
        pairs = list(enumerate(encoders))
        out = self.out
        try:
            for row in rows:
                out.append(M.data_row([None if row[i] is None else enc(row[i])
                                       for i, enc in pairs]))
                if len(out) >= _ROWS_PER_FLUSH:
                    await self._maybe_flush()
        except (TypeError, ValueError, OverflowError, AttributeError) as e:
            raise Error(f"cannot encode result value: {e}", "22000") from None

    def _complete(self, r: StatementResult) -> None:
        for notice in r.notices:
            self.out.append(M.notice_response(notice))
        self.out.append(M.command_complete(r.tag))

    # ------------------------------------------------------------ simple query

    async def simple_query(self, p: Payload) -> None:
        sql = p.cstring()
        pieces = sqltext.split_statements(sql)
        if not pieces:
            self.out.append(M.EMPTY_QUERY)
            return
        for offset, text in pieces:
            try:
                results = await self.run(text, None)
            except Error as e:
                self.fail(e, offset, extended=False)
                return
            for r in results:
                if r.columns is not None:
                    self.out.append(self._row_description(r.columns, []))
                    await self._send_rows(r.columns, [], r.rows)
                self._complete(r)

    # ------------------------------------------------------------ extended query

    async def parse(self, p: Payload) -> None:
        name, sql = p.cstring(), p.cstring()
        oids = [p.int32() for _ in range(p.int16())]
        if name and name in self.statements:
            raise ProgrammingError(f'prepared statement "{name}" already exists', "42P05")
        if len(sqltext.split_statements(sql)) > 1:
            raise ProgrammingError("cannot insert multiple commands into a prepared statement",
                                   "42601")
        count = max(len(oids), sqltext.max_param(sql))
        oids += [0] * (count - len(oids))
        if 0 in oids:
            oids = await self.server.run_blocking(infer_param_oids, self.server.db, sql, oids)
        self.statements[name] = Prepared(sql, oids)
        self.out.append(M.PARSE_COMPLETE)

    async def bind(self, p: Payload) -> None:
        portal_name, stmt_name = p.cstring(), p.cstring()
        fmts = [p.int16() for _ in range(p.int16())]
        raw: list[bytes | None] = []
        for _ in range(p.int16()):
            n = p.int32()
            raw.append(None if n < 0 else p.raw(n))
        rfmts = [p.int16() for _ in range(p.int16())]
        stmt = self.statements.get(stmt_name)
        if stmt is None:
            raise Error(f'prepared statement "{stmt_name}" does not exist', "26000")
        if len(raw) != len(stmt.param_oids):
            raise ProtocolViolation(f"bind message supplies {len(raw)} parameters, but "
                                    f"prepared statement requires {len(stmt.param_oids)}")
        if portal_name and portal_name in self.portals:
            raise Error(f'portal "{portal_name}" already exists', "42P03")
        params = [codec.decode_param(oid, _fmt(fmts, i), raw[i])
                  for i, oid in enumerate(stmt.param_oids)]
        self.portals[portal_name] = Portal(stmt, params, rfmts)
        self.out.append(M.BIND_COMPLETE)

    async def describe(self, p: Payload) -> None:
        kind, name = p.byte(), p.cstring()
        if kind == b"S":
            stmt = self.statements.get(name)
            if stmt is None:
                raise Error(f'prepared statement "{name}" does not exist', "26000")
            self.out.append(M.parameter_description(stmt.param_oids))
            if not stmt.was_described:
                stmt.described = await self._describe_statement(stmt)
                stmt.was_described = True
            cols = stmt.described
            self.out.append(M.NO_DATA if cols is None else self._row_description(cols, []))
        elif kind == b"P":
            portal = self._portal(name)
            if portal.result is None and sqltext.returns_rows(portal.stmt.sql):
                await self._run_portal(portal)
            cols = portal.columns
            self.out.append(M.NO_DATA if cols is None
                            else self._row_description(cols, portal.formats))
        else:
            raise ProtocolViolation("invalid DESCRIBE message subtype")

    async def _describe_statement(self, stmt: Prepared) -> list[Column] | None:
        if not sqltext.returns_rows(stmt.sql):
            return None
        fetched = self.cursors.columns_of_fetch(stmt.sql)
        if fetched is not None:
            return fetched
        return await self.server.run_blocking(
            describe_columns, self.server, self.session, stmt.sql, len(stmt.param_oids))

    async def _run_portal(self, portal: Portal) -> None:
        results = await self.run(portal.stmt.sql, portal.params, portal.stmt)
        portal.result = results[-1] if results else StatementResult("")
        cols = portal.result.columns if sqltext.returns_rows(portal.stmt.sql) else None
        if cols is not None and portal.stmt.described is not None \
                and len(portal.stmt.described) == len(cols):
            cols = portal.stmt.described  # encode as announced at Describe
        portal.columns = cols

    async def execute(self, p: Payload) -> None:
        name, max_rows = p.cstring(), p.int32()
        portal = self._portal(name)
        if sqltext.is_empty(portal.stmt.sql):
            self.out.append(M.EMPTY_QUERY)
            return
        if portal.result is None:
            await self._run_portal(portal)
        r = portal.result
        assert r is not None
        if portal.columns is None:
            if portal.pos == 0:
                portal.pos = 1
                self._complete(r)
            return
        start = portal.pos
        end = len(r.rows) if max_rows <= 0 else min(len(r.rows), start + max_rows)
        await self._send_rows(portal.columns, portal.formats, r.rows[start:end])
        portal.pos = end
        if end < len(r.rows):
            self.out.append(M.PORTAL_SUSPENDED)
            return
        tag = r.tag
        if start > 0 or end != len(r.rows) or tag.startswith("SELECT"):
            verb = tag.split()[0] if tag else "SELECT"
            tag = f"{verb} {end - start}" if verb in ("SELECT", "FETCH") else tag
        self._complete(StatementResult(tag, r.columns, [], r.notices))

    async def close(self, p: Payload) -> None:
        kind, name = p.byte(), p.cstring()
        if kind == b"S":
            self.statements.pop(name, None)
        elif kind == b"P":
            self.portals.pop(name, None)
        else:
            raise ProtocolViolation("invalid CLOSE message subtype")
        self.out.append(M.CLOSE_COMPLETE)

    def _portal(self, name: str) -> Portal:
        portal = self.portals.get(name)
        if portal is None:
            raise Error(f'portal "{name}" does not exist', "34000")
        return portal


def _fmt(formats: list[int], i: int) -> int:
    if not formats:
        return 0
    return formats[0] if len(formats) == 1 else (formats[i] if i < len(formats) else 0)
