"""A throwaway PostgreSQL server for the tests: Debian's server binaries, `initdb` into a
temporary directory, started on a free loopback port with its unix socket in that
directory, stopped and removed at the end.

PostgreSQL refuses to run as root; when the tests run as root the server runs as an
unprivileged user (`SQLSTREAM_PG_USER`, else `postgres`, else `nobody`)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from tests.netutil import free_port

SUPERUSER = "sqlstream"


def find_bindir() -> str | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned
    directories (newest first)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(found)
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0,
                  reverse=True)
    for d in dirs:
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(
                os.path.join(d, "pg_ctl")):
            return d
    return None


def _run_as() -> str | None:
    """The user the server runs as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("SQLSTREAM_PG_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as "
                       "(set SQLSTREAM_PG_USER)")


@dataclass
class PostgresServer:
    bindir: str
    root: str
    port: int
    user: str | None

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres"

    def _cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return [*prefix, *args]

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run(self._cmd(os.path.join(self.bindir, tool), *args), check=True,
                       timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @classmethod
    def start(cls, bindir: str) -> PostgresServer:
        user = _run_as()
        root = tempfile.mkdtemp(prefix="sqlstream-pg-")
        if user:
            pw = pwd.getpwnam(user)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o700)
        server = cls(bindir, root, free_port(), user)
        data = os.path.join(root, "data")
        try:
            server._pg("initdb", "-D", data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                       "--locale=C.UTF-8", "--no-sync")
            opts = (f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                    "-c TimeZone=UTC -c DateStyle=ISO,MDY -c max_connections=20")
            server._pg("pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(root, "log"),
                       "-w", "-t", "60", "start", timeout=90)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def stop(self) -> None:
        try:
            self._pg("pg_ctl", "-D", os.path.join(self.root, "data"), "-m", "immediate",
                     "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
