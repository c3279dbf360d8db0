"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` package, `initdb` into a
temporary folder as a user that is not root, listening on a loopback port only, stopped and
deleted at the end. If it cannot be started the tests that need it fail, saying why: they
never skip (a PostgreSQL backend that is not tested is not a backend).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "deflect"


class PostgresUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    folder: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@{self.host}:{self.port}/{database}"


def binaries() -> Path:
    """The folder of initdb, pg_ctl, pg_dump (Debian's versioned one, or on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("initdb"):
        found = [str(shutil.which("initdb"))]
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL is not installed: the tests need Debian's postgresql package "
            "(apt-get install postgresql) for initdb and postgres")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(owner: str | None) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as `owner`."""
    if owner is None:
        return []
    return ["runuser", "-u", owner, "--"]


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bindir = binaries()
    owner = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                owner = name
                break
        if owner is None:
            raise PostgresUnavailable("running as root and no user to run PostgreSQL as")
    folder = Path(tempfile.mkdtemp(prefix="deflect-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if owner is not None:
        entry = pwd.getpwnam(owner)
        for path in (folder, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = free_port()
    run = _as_owner(owner)

    def call(*args: str) -> None:
        done = subprocess.run([*run, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{Path(args[0]).name} failed: {done.stderr.strip()}")

    try:
        call(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
             "-E", "UTF8", "--no-sync", "--locale=C")
        call(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
             "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
             "start")
    except PostgresUnavailable:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        yield PostgresServer("127.0.0.1", port, folder)
    finally:
        subprocess.run([*run, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)
