"""The live dashboard: a web page and a read-only JSON API over the same figures as
the `sys` tables (needs the `sqlstream[dashboard]` extra: Starlette and uvicorn).

    from sqlstream import dashboard
    board = dashboard.start(db, 5691)   # http://127.0.0.1:5691/
    board.stop()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlstream.dashboard.server import DashboardServer
    from sqlstream.database import Database

DEFAULT_PORT = 5691


def start(db: "Database", port: int = DEFAULT_PORT, host: str = "127.0.0.1",
          password: str | None = None, interval_s: float = 1.0) -> "DashboardServer":
    """Serve the dashboard for `db` on a daemon thread; returns the running server."""
    try:
        from sqlstream.dashboard.server import start as _start
    except ModuleNotFoundError as e:
        if e.name not in ("starlette", "uvicorn"):
            raise
        raise ImportError("the dashboard needs its extra: pip install 'sqlstream[dashboard]' "
                          f"({e})") from None
    return _start(db, port, host, password, interval_s)


__all__ = ["start", "DEFAULT_PORT"]
