"""The dashboard's HTTP server: uvicorn on a daemon thread with its own event loop,
so it serves while the engine's loop and the caller's thread do their own work."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from sqlstream.dashboard.app import Board, build_app

if TYPE_CHECKING:
    from sqlstream.database import Database


class DashboardServer:
    """A running dashboard; `port` is the bound port, `stop()` ends it."""

    def __init__(self, db: "Database", port: int, host: str = "127.0.0.1",
                 password: str | None = None, interval_s: float = 1.0) -> None:
        self.app = build_app(db, password, interval_s)
        self.board: Board = self.app.state.board
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # Bound here, so a taken port fails in the caller with a plain OSError.
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
        except OSError:
            self.socket.close()
            raise
        self.host = host
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                lifespan="on", timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="sqlstream-dashboard",
                                       daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.socket])

    def start(self, timeout: float = 10.0) -> "DashboardServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.socket.close()
                raise OSError(f"the dashboard did not start on {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def stop(self, timeout: float = 10.0) -> None:
        self.board.close_threadsafe()
        self.server.should_exit = True
        self.thread.join(timeout)
        self.socket.close()


def start(db: "Database", port: int, host: str = "127.0.0.1", password: str | None = None,
          interval_s: float = 1.0) -> DashboardServer:
    """Serve the dashboard for `db` at http://host:port/ until `stop()`."""
    return DashboardServer(db, port, host, password, interval_s).start()


__all__ = ["DashboardServer", "start"]
