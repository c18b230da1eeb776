"""Running statements for one connection: simple query, the extended-protocol steps
(Parse/Bind/Describe/Execute/Close), transaction status, and result encoding."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ContextManager, Sequence, TypeVar

from planner.errors import Error, ProgrammingError
from sqlstream.pgwire import codec
from sqlstream.pgwire import messages as M
from sqlstream.pgwire import sqltext
from sqlstream.pgwire.describe import describe_columns, infer_param_oids
from sqlstream.pgwire.messages import Payload, ProtocolViolation
from sqlstream.pgwire.portal import Cursors, Portal, Prepared
from sqlstream.result import Column, RowSource, StatementResult

if TYPE_CHECKING:
    from sqlstream.pgwire.server import Server

log = logging.getLogger("sqlstream.pgwire")
R = TypeVar("R")

REPORTED_SETTINGS = {"application_name": "application_name", "datestyle": "DateStyle",
                     "intervalstyle": "IntervalStyle", "timezone": "TimeZone",
                     "client_encoding": "client_encoding"}
_SET = re.compile(r"^\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(\w+)\s*(?:=|\s+TO\s+|\s+)\s*(.*?)\s*;?\s*$",
                  re.IGNORECASE | re.DOTALL)
_CURSOR_COMMAND = re.compile(r"\s*(?:FETCH|MOVE|CLOSE)\b", re.IGNORECASE)
# A result is read, encoded (in a worker thread) and sent in pieces of about this many
# bytes, each written only once the client has taken the one before: memory stays
# bounded however many rows a result has.
CHUNK_BYTES = 256 * 1024
_FETCH_ROWS = 500  # rows read from a result at a time
# While a statement runs, whether the client is still there is checked this often
# (seconds); a client that went away has its statement cancelled.
_WATCH_INTERVAL = 0.2


class StatementRunner:
    def __init__(self, server: Server, session: Any,
                 send: Callable[[bytes], Awaitable[None]] | None = None,
                 peer_gone: Callable[[], bool] | None = None) -> None:
        self.server = server
        self.session = session
        self.send = send
        self.peer_gone = peer_gone
        if hasattr(session, "stream_results"):
            session.stream_results = True
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

    async def _emit(self, data: bytes) -> None:
        """Send what is pending and data, waiting until the client has taken enough of
        it (the transport's buffer is below its high-water mark)."""
        self.out.append(data)
        if self.send is not None:
            await self.send(self.take_output())

    async def _blocking(self, fn: Callable[..., R], *args: Any) -> R:
        """fn(*args) on the server's thread pool. When the client disconnects meanwhile,
        the session's statement is cancelled and the connection ends."""
        fut = asyncio.ensure_future(self.server.run_blocking(fn, *args))
        try:
            while True:
                done, _ = await asyncio.wait({fut}, timeout=_WATCH_INTERVAL)
                if done:
                    return fut.result()
                if self.peer_gone is not None and self.peer_gone():
                    raise ConnectionResetError("client disconnected during a statement")
        except BaseException:
            # Disconnected or shut down: stop the statement and let its thread finish
            # before the connection releases what the statement uses.
            if not fut.done():
                self.session.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.wait({fut}, timeout=10)
            if fut.done() and not fut.cancelled():
                fut.exception()  # the statement's own error no longer matters
            raise

    def _clock(self) -> ContextManager[None]:
        """The session's statement clock (statement_timeout), when it has one."""
        clock = getattr(self.session, "statement_clock", None)
        return clock() if clock is not None else contextlib.nullcontext()

    def close_all(self) -> None:
        """Release every portal's open query (the connection ends)."""
        self.cursors.close_all()

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
            results = await self._execute(query, params)
            return [self.cursors.declare(name, results[-1], stmt or Prepared(query, []))]
        local = None
        if _CURSOR_COMMAND.match(sql):  # MOVE reads rows: off the event loop
            local = await self._blocking(self.cursors.try_fetch_or_close, sql)
        if local is not None:
            return [local]
        return await self._execute(sql, params)

    async def _execute(self, sql: str, params: Sequence[Any] | None) -> list[StatementResult]:
        return await self._blocking(self.server.execute_blocking, self.session, sql, params)

    def _report_setting(self, sql: str) -> None:
        if len(sql) > 4096:
            return  # no reported setting has a value this long; spare the loop the match
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

    async def _send_rows(self, columns: list[Column], formats: list[int], source: RowSource,
                         limit: int = 0) -> tuple[int, bool]:
        """Send up to `limit` rows of source (0: all) as DataRows, read and encoded in a
        worker thread a chunk at a time; returns the rows sent and whether source is
        at its end."""
        encoders = [codec.encoder(c.type, _fmt(formats, i)) for i, c in enumerate(columns)]
        sent = 0
        while True:
            left = 0 if limit <= 0 else limit - sent
            data, n, done = await self._blocking(encode_rows, source, encoders, left,
                                                 CHUNK_BYTES)
            sent += n
            if data:
                await self._emit(data)
            if done or (limit > 0 and sent >= limit):
                return sent, done

    async def _send_result(self, r: StatementResult, formats: list[int]) -> None:
        """A whole result: description, rows, completion."""
        if r.columns is not None:
            self.out.append(self._row_description(r.columns, formats))
            streamed = r.streamed
            sent, _ = await self._send_rows(r.columns, formats, r.take_source())
            if streamed:
                r.tag = f"{r.verb} {sent}"
        self._complete(r)

    def _complete(self, r: StatementResult) -> None:
        for notice in r.notices:
            self.out.append(M.notice_response(notice))
        self.out.append(M.command_complete(r.tag))

    # ------------------------------------------------------------ simple query

    async def simple_query(self, p: Payload) -> None:
        pieces = await self._blocking(_split_query, p)
        if not pieces:
            self.out.append(M.EMPTY_QUERY)
            return
        for offset, text in pieces:
            results: list[StatementResult] = []
            try:
                with self._clock():
                    results = await self.run(text, None)
                    for r in results:
                        await self._send_result(r, [])
            except Error as e:
                self.fail(e, offset, extended=False)
                return
            finally:
                for r in results:
                    r.close()

    # ------------------------------------------------------------ extended query

    async def parse(self, p: Payload) -> None:
        name, sql = p.cstring(), p.cstring()
        oids = [p.int32() for _ in range(p.int16())]
        if name and name in self.statements:
            raise ProgrammingError(f'prepared statement "{name}" already exists', "42P05")
        pieces, top, rows, empty = await self._blocking(_statement_facts, sql)
        if pieces > 1:
            raise ProgrammingError("cannot insert multiple commands into a prepared statement",
                                   "42601")
        count = max(len(oids), top)
        oids += [0] * (count - len(oids))
        if 0 in oids:
            oids = await self._blocking(infer_param_oids, self.server.db, sql, oids)
        self.statements[name] = Prepared(sql, oids, returns_rows=rows, empty=empty)
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
        old = self.portals.pop(portal_name, None)  # only the unnamed one is replaced
        if old is not None:
            old.close()
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
            if portal.result is None and portal.stmt.returns_rows:
                with self._clock():
                    await self._run_portal(portal)
            cols = portal.columns
            self.out.append(M.NO_DATA if cols is None
                            else self._row_description(cols, portal.formats))
        else:
            raise ProtocolViolation("invalid DESCRIBE message subtype")

    async def _describe_statement(self, stmt: Prepared) -> list[Column] | None:
        if not stmt.returns_rows:
            return None
        fetched = self.cursors.columns_of_fetch(stmt.sql)
        if fetched is not None:
            return fetched
        return await self._blocking(
            describe_columns, self.server, self.session, stmt.sql, len(stmt.param_oids))

    async def _run_portal(self, portal: Portal) -> None:
        results = await self.run(portal.stmt.sql, portal.params, portal.stmt)
        for r in results[:-1]:
            r.close()
        portal.result = results[-1] if results else StatementResult("")
        cols = portal.result.columns if portal.stmt.returns_rows else None
        if cols is not None:
            portal.source = portal.result.take_source()
            if portal.stmt.described is not None and len(portal.stmt.described) == len(cols):
                cols = portal.stmt.described  # encode as announced at Describe
        portal.columns = cols

    async def execute(self, p: Payload) -> None:
        name, max_rows = p.cstring(), p.int32()
        portal = self._portal(name)
        if portal.stmt.empty:
            self.out.append(M.EMPTY_QUERY)
            return
        with self._clock():
            if portal.result is None:
                await self._run_portal(portal)
            r = portal.result
            assert r is not None
            if portal.columns is None or portal.source is None:
                if not portal.completed:
                    portal.completed = True
                    self._complete(r)
                return
            sent, done = await self._send_rows(portal.columns, portal.formats, portal.source,
                                               max(max_rows, 0))
        if not done:
            self.out.append(M.PORTAL_SUSPENDED)
            return
        verb = r.verb or "SELECT"
        tag = f"{verb} {sent}" if verb in ("SELECT", "FETCH") or r.streamed else r.tag
        self._complete(StatementResult(tag, r.columns, [], r.notices))

    async def close(self, p: Payload) -> None:
        kind, name = p.byte(), p.cstring()
        if kind == b"S":
            self.statements.pop(name, None)
        elif kind == b"P":
            portal = self.portals.pop(name, None)
            if portal is not None:
                portal.close()
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


def _split_query(p: Payload) -> list[tuple[int, str]]:
    """The statements of a Query message (worked out off the event loop)."""
    return sqltext.split_statements(p.cstring())


def _statement_facts(sql: str) -> tuple[int, int, bool, bool]:
    """What Parse needs to know of a statement's text (worked out off the event loop):
    how many statements it holds, its highest $n, whether it may return rows, and
    whether it is empty."""
    return (len(sqltext.split_statements(sql)), sqltext.max_param(sql),
            sqltext.returns_rows(sql), sqltext.is_empty(sql))


def encode_rows(source: RowSource, encoders: list[codec.Encoder], limit: int,
                budget: int) -> tuple[bytes, int, bool]:
    """DataRow messages of the next rows of source: up to `limit` rows (0: no limit)
    and about `budget` bytes. Returns them, their count, and whether source is at its
    end. Runs in a worker thread."""
    parts: list[bytes] = []
    size = count = 0
    pairs = list(enumerate(encoders))
    data_row = M.data_row
    try:
        while size < budget and (limit <= 0 or count < limit):
            want = _FETCH_ROWS if limit <= 0 else min(_FETCH_ROWS, limit - count)
            rows = source.fetch(want)
            for row in rows:
                m = data_row([None if row[i] is None else enc(row[i]) for i, enc in pairs])
                parts.append(m)
                size += len(m)
            count += len(rows)
            if len(rows) < want:
                break
    except (TypeError, ValueError, OverflowError, AttributeError) as e:
        raise Error(f"cannot encode result value: {e}", "22000") from None
    return b"".join(parts), count, source.at_end()
