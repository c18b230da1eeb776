"""One client connection: startup, authentication, then the message loop of the simple
and extended query protocols. A protocol error ends this connection only."""

from __future__ import annotations

import asyncio
import logging
import secrets
import select
from typing import TYPE_CHECKING, Any, Callable

from planner.errors import Error
from sqlstream.pgwire import messages as M
from sqlstream.pgwire.auth import MECHANISM, AuthFailed, ScramExchange
from sqlstream.pgwire.messages import Payload, ProtocolViolation
from sqlstream.pgwire.statements import StatementRunner

if TYPE_CHECKING:
    from sqlstream.pgwire.server import Server

log = logging.getLogger("sqlstream.pgwire")

# A backstop only: startup() ends a connection after the server's authentication_timeout.
STARTUP_TIMEOUT = 700.0
# The peer closed its end (POLLRDHUP, Linux) or the connection broke.
_PEER_GONE_EVENTS = getattr(select, "POLLRDHUP", 0) | select.POLLHUP | select.POLLERR
SERVER_VERSION = "15.0.0"


class Connection:
    def __init__(self, server: Server, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.pid = 0
        self.secret = secrets.randbits(31)
        self.session: Any = None
        self.runner: StatementRunner | None = None
        self.params: dict[str, str] = {}
        self.counted = False

    # ------------------------------------------------------------ lifecycle

    async def serve(self) -> None:
        try:
            if await asyncio.wait_for(self.startup(), STARTUP_TIMEOUT):
                await self.message_loop()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError):
            pass
        except ProtocolViolation as e:
            await self.fatal("08P01", str(e))
        except Exception:  # noqa: BLE001 - one broken connection must not stop the server
            log.exception("connection failed")
            await self.fatal("XX000", "internal error")
        finally:
            await self.cleanup()

    async def cleanup(self) -> None:
        if self.pid:
            self.server.connections.pop(self.pid, None)
        if self.counted:
            self.server.active -= 1
        if self.session is not None:
            session, self.session = self.session, None
            session.cancel()
            try:
                if self.server.stopping:  # no thread waits: the database closes them all
                    session.close()
                else:
                    if self.runner is not None:
                        await self.server.run_blocking(self.runner.close_all)
                    await self.server.run_blocking(session.close)
            except Exception:  # noqa: BLE001
                log.exception("closing session failed")
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2)
        except (ConnectionError, asyncio.TimeoutError, OSError):
            pass

    async def fatal(self, sqlstate: str, message: str) -> None:
        try:
            self.writer.write(M.error_response("FATAL", sqlstate, message))
            await asyncio.wait_for(self.writer.drain(), 2)
        except (ConnectionError, asyncio.TimeoutError, OSError):
            pass

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def peer_gone(self) -> bool:
        """Whether the client has closed its end of the connection (or it broke),
        asked without reading anything from it."""
        if self.writer.transport.is_closing() or self.reader.at_eof():
            return True
        sock = self.writer.get_extra_info("socket")
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock.fileno(), _PEER_GONE_EVENTS)
        try:
            return bool(poller.poll(0))
        except OSError:
            return True

    # ------------------------------------------------------------ startup

    async def startup(self) -> bool:
        """Negotiate and authenticate; False when the connection should just end.

        Until it is authenticated a connection holds one of the server's pending slots
        (apart from the slots of authenticated connections), its messages are capped at
        a few KB and it has `authentication_timeout` seconds to finish, so silent or
        flooding clients cannot keep a client with the password out."""
        server = self.server
        if server.pending >= server.max_pending:
            await self.fatal("53300", "sorry, too many clients are authenticating already")
            return False
        server.pending += 1
        try:
            async with asyncio.timeout(server.authentication_timeout):
                user = await self.negotiate()
        except TimeoutError:
            await self.fatal("08006", "canceling authentication due to timeout")
            return False
        finally:
            server.pending -= 1
        if user is None:
            return False
        if server.active >= server.max_connections:
            await self.fatal("53300", "sorry, too many clients already")
            return False
        server.active += 1
        self.counted = True
        self.session = await server.run_blocking(server.db.session)
        self.session.allow_udf = server.allow_udf
        self.session.fs_roots = server.fs_roots
        self.runner = StatementRunner(server, self.session, self.send)
        self.pid = server.register(self)
        out = [M.AUTH_OK]
        for name, value in self.startup_parameters(user).items():
            out.append(M.parameter_status(name, value))
        out.append(M.backend_key_data(self.pid, self.secret))
        out.append(M.ready_for_query("I"))
        await self.send(b"".join(out))
        return True

    async def negotiate(self) -> str | None:
        """The startup packet and the password exchange: the user name, or None when
        the connection should end."""
        while True:
            code, p = await M.read_startup(self.reader)
            if code in (M.SSL_REQUEST, M.GSSENC_REQUEST):
                await self.send(b"N")
                continue
            if code == M.CANCEL_REQUEST:
                self.server.cancel(p.int32(), p.int32())
                return None
            if code >> 16 != 3:
                await self.fatal("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xffff}")
                return None
            self.params = M.parse_startup_params(p)
            break
        unsupported = [k for k in self.params if k.startswith("_pq_.")]
        if code & 0xffff or unsupported:
            body = M._I32.pack(0) + M._I32.pack(len(unsupported))
            await self.send(M.msg(b"v", body + b"".join(M.cstr(k) for k in unsupported)))
        user = self.params.get("user", "root")
        if self.server.verifier is not None and not await self.authenticate(user):
            return None
        return user

    def startup_parameters(self, user: str) -> dict[str, str]:
        return {
            "server_version": SERVER_VERSION,
            "server_encoding": "UTF8",
            "client_encoding": "UTF8",
            "DateStyle": "ISO, MDY",
            "IntervalStyle": "postgres",
            "TimeZone": "UTC",
            "integer_datetimes": "on",
            "standard_conforming_strings": "on",
            "application_name": self.params.get("application_name", ""),
            "is_superuser": "on",
            "session_authorization": user,
        }

    async def authenticate(self, user: str) -> bool:
        """SCRAM-SHA-256. A wrong password is answered after `auth_delay` seconds, as
        PostgreSQL's auth_delay does, to slow down guessing."""
        assert self.server.verifier is not None
        await self.send(M.auth_request(10, M.cstr(MECHANISM) + b"\0"))
        try:
            body = await self._sasl_response()
            if body is None:
                return False
            p = Payload(body)
            if p.cstring() != MECHANISM:
                raise AuthFailed("unsupported SASL mechanism")
            n = p.int32()
            scram = ScramExchange(self.server.verifier)
            await self.send(M.auth_request(11, scram.first(p.raw(n) if n >= 0 else b"")))
            body = await self._sasl_response()
            if body is None:
                return False
            await self.send(M.auth_request(12, scram.final(body)))
            return True
        except AuthFailed:
            pass
        except ProtocolViolation as e:
            if isinstance(e, M.MessageTooLong):
                raise
        await asyncio.sleep(self.server.auth_delay)
        await self.fatal("28P01", f'password authentication failed for user "{user}"')
        return False

    async def _sasl_response(self) -> bytes | None:
        """The body of the client's next SASL message (None: the client said goodbye,
        as psql does before it asks for the password)."""
        m = await M.read_message(self.reader, M.MAX_AUTH_MESSAGE_LEN)
        if m.kind == b"X":
            return None
        if m.kind != b"p":
            raise AuthFailed("expected SASL response")
        return m.body

    # ------------------------------------------------------------ messages

    async def message_loop(self) -> None:
        assert self.runner is not None
        runner = self.runner
        runner.peer_gone = self.peer_gone
        handlers: dict[bytes, Callable[[Payload], Any]] = {
            b"Q": runner.simple_query, b"P": runner.parse, b"B": runner.bind,
            b"D": runner.describe, b"E": runner.execute, b"C": runner.close,
        }
        while True:
            m = await M.read_message(self.reader)
            kind = m.kind
            if kind == b"X":
                return
            if kind == b"S":
                runner.skip_until_sync = False
                await self.send(runner.take_output() + M.ready_for_query(runner.tx_status))
                continue
            if kind == b"H":
                await self.send(runner.take_output())
                continue
            if kind in (b"d", b"c", b"f"):
                continue  # copy messages outside COPY are ignored, as PostgreSQL does
            handler = handlers.get(kind)
            if handler is None:
                raise ProtocolViolation(f"invalid frontend message type {kind!r}")
            if kind != b"Q" and runner.skip_until_sync:
                continue
            try:
                await handler(Payload(m.body))
            except Error as e:
                runner.fail(e)
            if kind == b"Q":
                await self.send(runner.take_output() + M.ready_for_query(runner.tx_status))
            elif runner.pending_bytes() > 65536:
                await self.send(runner.take_output())
