"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, listening on a socket there only."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

#: The database user the tests connect as (initdb makes it the superuser; local connections are trusted).
DB_USER = "grader"


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (on PATH, or Debian's /usr/lib/postgresql/<version>/bin), or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def _os_user() -> str | None:
    """The account the server runs as when we are root (initdb refuses root): Debian's `postgres`, else nobody."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL")


def _run(argv: list[str], user: str | None, **kwargs) -> subprocess.CompletedProcess:
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


class Server:
    """A running server: `url(db)` is the SQLAlchemy URL of one of its databases, `create_database()` makes one."""

    def __init__(self, socket_dir: Path):
        self.socket_dir = socket_dir

    def url(self, database: str) -> str:
        return f"postgresql://{DB_USER}@/{database}?host={self.socket_dir}"

    def create_database(self) -> str:
        """A new empty database (each test gets its own), returned as its URL."""
        import psycopg

        name = f"gradebook_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dbname="postgres", user=DB_USER, host=str(self.socket_dir), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def throwaway_server():
    """Start a server in a fresh temporary folder (fsync off, no TCP) and always stop and delete it at the end."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    user = _os_user()
    root = Path(tempfile.mkdtemp(prefix="pg-"))  # short: a socket path has at most 107 characters
    data = root / "data"
    started = False
    try:
        if user is not None:
            shutil.chown(root, user=user)
        _run([str(bindir / "initdb"), "-D", str(data), "-U", DB_USER, "--auth=trust", "-E", "UTF8",
              "--no-sync", "--no-instructions"], user, timeout=120)
        options = f"-k {root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w",
              "-t", "60", "start"], user, timeout=90)
        started = True
        yield Server(root)
    finally:
        if started:
            subprocess.run((["runuser", "-u", user, "--"] if user else []) +
                           [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
