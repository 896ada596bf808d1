"""A real PostgreSQL server for the tests and benchmarks: the distribution's binaries, a temp
data directory, a Unix socket only (no TCP port to collide with), fsync off.

`CONSULTBOT_TEST_POSTGRES_URL` (an administrator's URL to an existing server) is used instead
when set. Each test gets a database of its own.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg

PORT = 5432


def binaries() -> Path:
    """The directory holding initdb and pg_ctl (PG_BIN, pg_config, or the distribution's)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    installed = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    if installed:
        return Path(installed[-1])
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
        return Path(found.stdout.strip())
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL's server binaries were not found: install the distribution's postgresql "
        "package (as .ci/run does), or set PG_BIN or CONSULTBOT_TEST_POSTGRES_URL"
    )


class PostgresServer:
    """One server for a test session; `database()` makes a fresh database on it."""

    def __init__(self, durable: bool = False) -> None:
        # Tests run with fsync off; a benchmark measures the server as deployed (durable=True).
        self._durable = durable
        self._root: Path | None = None
        self._admin_url = os.environ.get("CONSULTBOT_TEST_POSTGRES_URL")

    def start(self) -> None:
        if self._admin_url:
            return
        bin_dir = binaries()
        self._root = Path(tempfile.mkdtemp(prefix="consultbot-pg-"))
        data, socket = self._root / "data", self._root / "socket"
        socket.mkdir()
        as_owner = self._owner_prefix()
        subprocess.run(
            [
                *as_owner,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "consultbot",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-p {PORT} -k {socket} -c listen_addresses='' -c max_connections=200"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            [
                *as_owner,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(self._root / "server.log"),
                "start",
            ],
            check=True,
            capture_output=True,
        )
        self._admin_url = f"postgresql://consultbot@/postgres?host={socket}&port={PORT}"

    def _owner_prefix(self) -> list[str]:
        """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
        assert self._root is not None
        if os.geteuid() != 0:
            return []
        shutil.chown(self._root, user="postgres")
        (self._root / "socket").chmod(0o777)
        return ["runuser", "-u", "postgres", "--"]

    def stop(self) -> None:
        if self._root is None:
            return
        subprocess.run(
            [
                *self._owner_prefix(),
                str(binaries() / "pg_ctl"),
                "-D",
                str(self._root / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None

    async def database(self) -> str:
        """A new, empty database's URL."""
        assert self._admin_url is not None, "start() the server first"
        name = "t_" + secrets.token_hex(6)
        connection = await asyncpg.connect(self._admin_url)
        try:
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()
        return _with_database(self._admin_url, name)


def _with_database(url: str, name: str) -> str:
    before, _, after = url.partition("?")
    base = before.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{after}" if after else "")
