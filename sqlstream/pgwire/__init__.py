"""PostgreSQL wire protocol v3 server for sqlstream (see docs/pgwire.md).
The entry point is `sqlstream.pgwire.server.run_server(argv)`."""


def run_server(argv: list[str]) -> int:
    from sqlstream.pgwire.server import run_server as _run

    return _run(argv)


__all__ = ["run_server"]
