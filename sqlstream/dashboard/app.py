"""The dashboard's web application (Starlette): the page, its static files, a read-only
JSON API under /api/ and a server-sent event stream that pushes a snapshot of the
engine's figures about once a second. See docs/dashboard.md."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sqlstream import system_tables
from sqlstream.dashboard import api

if TYPE_CHECKING:
    from sqlstream.database import Database

log = logging.getLogger("sqlstream.dashboard")
STATIC = os.path.join(os.path.dirname(__file__), "static")
ENGINE_TIMEOUT_S = 10.0


class Unavailable(Exception):
    """The database is closed or its engine did not answer in time."""


class Board:
    """What the routes share: the database, the latest snapshot and the history."""

    def __init__(self, db: "Database", interval_s: float = 1.0, history: int = 600) -> None:
        self.db = db
        self.interval_s = interval_s
        self.history = api.History(history)
        self.latest: dict[str, Any] | None = None
        self.version = 0
        self.changed: asyncio.Condition | None = None  # made on the server's loop
        self.closing: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def engine(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(db, *args)` run on the engine loop, where the figures are written."""
        db = self.db
        if db.closed or db.runtime is None:
            raise Unavailable("the database is closed")

        async def call() -> Any:
            return fn(db, *args)
        fut = asyncio.run_coroutine_threadsafe(call(), db.loop)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(fut), ENGINE_TIMEOUT_S)
        except TimeoutError:
            raise Unavailable("the engine did not answer in time") from None

    async def sample_forever(self) -> None:
        """One snapshot per interval: kept as the latest, added to the history, and
        announced to every open event stream."""
        assert self.changed is not None and self.closing is not None
        while not self.closing.is_set():
            try:
                snap = await self.engine(api.snapshot)
                snap["sample"] = self.history.add(snap)
                async with self.changed:
                    self.latest = snap
                    self.version += 1
                    self.changed.notify_all()
            except Unavailable:
                pass
            except Exception:
                log.exception("dashboard sample failed")
            try:
                await asyncio.wait_for(self.closing.wait(), self.interval_s)
            except TimeoutError:
                pass

    async def next_snapshot(self, seen: int) -> tuple[int, dict[str, Any] | None]:
        """The first snapshot newer than version `seen` (None once closing)."""
        assert self.changed is not None and self.closing is not None
        async with self.changed:
            while self.version <= seen and not self.closing.is_set():
                try:
                    await asyncio.wait_for(self.changed.wait(), 5 * self.interval_s)
                except TimeoutError:
                    continue
            return self.version, None if self.closing.is_set() else self.latest

    async def close(self) -> None:
        """End the sampling and every open event stream (before the server waits for
        its connections to finish)."""
        if self.closing is None or self.changed is None:
            return
        self.closing.set()
        async with self.changed:
            self.changed.notify_all()

    def close_threadsafe(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            asyncio.run_coroutine_threadsafe(self.close(), self.loop)


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=api.json_value, allow_nan=False),
                    status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


def _board(request: Request) -> Board:
    board: Board = request.app.state.board
    return board


async def _answer(board: Board, fn: Callable[..., Any], *args: Any) -> Response:
    """`fn(db, *args)` from the engine loop as JSON; 404 when it finds nothing."""
    try:
        data = await board.engine(fn, *args)
    except Unavailable as e:
        return _error(503, str(e))
    if data is None:
        return _error(404, f'relation "{args[0]}" does not exist')
    return _json(data)


async def index(request: Request) -> Response:
    return FileResponse(os.path.join(STATIC, "index.html"), headers={"Cache-Control": "no-cache"})


async def snapshot(request: Request) -> Response:
    board = _board(request)
    if board.latest is not None:
        return _json(board.latest)
    return await _answer(board, api.snapshot)


async def relations(request: Request) -> Response:
    return await _answer(_board(request),
                         lambda d: api.relation_list(d, api.sys_rows(d, "sources")))


async def view(request: Request) -> Response:
    return await _answer(_board(request), api.view_detail, request.path_params["name"])


async def sys_table(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in system_tables.names():
        return _error(404, f'system table "sys.{name}" does not exist')
    return await _answer(_board(request), api.sys_rows, name)


async def history(request: Request) -> Response:
    board = _board(request)
    try:
        barriers = await board.engine(api.sys_rows, "barrier_latency")
    except Unavailable as e:
        return _error(503, str(e))
    return _json({"interval_s": board.interval_s, "samples": board.history.as_list(),
                  "barrier_latency": barriers})


async def events(request: Request) -> Response:
    """Server-sent events: one `snapshot` event per sample, until the server closes."""
    board = _board(request)

    async def stream() -> AsyncIterator[str]:
        yield f"retry: {int(board.interval_s * 2000)}\n\n"
        seen = 0
        while True:
            seen, snap = await board.next_snapshot(seen)
            if snap is None:
                return
            data = json.dumps(snap, default=api.json_value, allow_nan=False)
            yield f"event: snapshot\nid: {seen}\ndata: {data}\n\n"
    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """The sampler runs on the server's loop for as long as the server does."""
    board: Board = app.state.board
    board.changed = asyncio.Condition()
    board.closing = asyncio.Event()
    board.loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(board.sample_forever())
    try:
        yield
    finally:
        await board.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


ROUTES = [
    Route("/", index),
    Route("/api/snapshot", snapshot),
    Route("/api/relations", relations),
    Route("/api/views/{name}", view),
    Route("/api/sys/{name}", sys_table),
    Route("/api/history", history),
    Route("/api/events", events),
    Mount("/static", StaticFiles(directory=STATIC), name="static"),
]


def build_app(db: "Database", password: str | None = None, interval_s: float = 1.0,
              history_size: int = 600) -> Starlette:
    """The dashboard for `db` (GET routes only); with `password`, every request needs
    HTTP basic auth with that password (any user name)."""
    app = Starlette(routes=ROUTES, lifespan=lifespan)
    app.state.board = Board(db, interval_s, history_size)
    if password:
        app.add_middleware(BasicAuth, password=password)
    return app


class BasicAuth:
    """HTTP basic authentication against the server's password (the user name is not
    checked, as the wire server's password is one for every user)."""

    def __init__(self, app: ASGIApp, password: str) -> None:
        self.app = app
        self.digest = hashlib.sha256(password.encode()).digest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        response = JSONResponse({"error": "password required"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="sqlstream"'})
        await response(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            _user, _, given = base64.b64decode(value.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(hashlib.sha256(given).digest(), self.digest)


__all__ = ["build_app", "Board", "BasicAuth"]
