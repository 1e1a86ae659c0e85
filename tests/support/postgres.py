"""A throwaway PostgreSQL server for the tests: initdb in a temp dir, started with pg_ctl on
127.0.0.1 and a free port, password auth over TCP. PostgreSQL refuses to run as root, so when
the tests run as root the server runs as the `postgres` system user of the Debian package (or
`nobody`), owning its temp dir. Binaries: scripts/ensure_postgres.sh (run by `make test`).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

USER = "krakengw"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL binaries missing: run scripts/ensure_postgres.sh")


def _run_as() -> str | None:
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and no `postgres` or `nobody` user to run PostgreSQL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    password: str = field(repr=False)
    password_file: Path
    _bin: Path
    _user: str | None
    _databases: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = _bin_dir()
        user = _run_as()
        root = Path(tempfile.mkdtemp(prefix="krakengw-pg-"))
        password = secrets.token_urlsafe(18)
        # The gateway reads the password from a 0600 file of the test's user.
        password_file = root / "password"
        password_file.write_text(password)
        password_file.chmod(0o600)
        data = root / "data"
        data.mkdir()
        pwfile = root / "initdb-password"  # initdb wants an empty data dir
        pwfile.write_text(password)
        if user is not None:
            info = pwd.getpwnam(user)
            os.chmod(root, 0o711)  # noqa: S103 - the server's user must reach its data dir
            for path in (data, pwfile):
                os.chown(path, info.pw_uid, info.pw_gid)
        server = cls(root, 0, password, password_file, bin_dir, user)
        server._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            USER,
            "--pwfile",
            str(pwfile),
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        pwfile.unlink()
        for _attempt in range(5):  # another process may grab the free port before we bind it
            server.port = _free_port()
            try:
                server._run(
                    "pg_ctl",
                    "-D",
                    str(data),
                    "-l",
                    str(data / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {server.port} -c listen_addresses=127.0.0.1 -k {data} -c fsync=off "
                    "-c full_page_writes=off -c max_connections=200",
                    "start",
                )
                return server
            except subprocess.CalledProcessError:
                continue
        raise RuntimeError(f"PostgreSQL did not start; see {data / 'server.log'}")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [str(self._bin / tool), *args],
            check=False,
            user=self._user,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, tool, stderr=done.stderr)

    def url(self, database: str = "postgres") -> str:
        """A connection URI without the password (the gateway's config form)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; returns its URI (no password in it)."""
        import psycopg

        name = f"t{next(self._databases)}_{secrets.token_hex(3)}"
        with psycopg.connect(self.url(), password=self.password, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
