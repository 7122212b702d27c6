"""A throwaway PostgreSQL cluster for the tests: a temporary directory, a free loopback port.

``make test`` / ``.ci/run`` install Debian's ``postgresql`` when ``initdb`` is missing
(Makefile target ``postgres``). PostgreSQL refuses to run as root, so when the tests
run as root the cluster is made and run as the ``postgres`` user (the directory is
chown'ed to it). The superuser ``postgres`` has a password and TCP connections
require it (scram-sha-256), so the tests can check what a wrong password says.
On CI (``CI=true``) a server that cannot be started fails the tests; elsewhere
they are skipped with the reason.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "s3cret-pw-for-tests"
_counter = itertools.count(1)
TEMPLATE = "warroom_template"


class NoPostgres(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if not candidates:
        raise NoPostgres("initdb not found (install Debian's postgresql package: make postgres)")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    bin_dir: Path
    root: Path
    port: int
    user: str | None  # the OS user the server runs as (None: this user)
    databases: list[str] = field(default_factory=list)
    template_ready: bool = False

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres", *, password: str | None = PASSWORD, user: str = "postgres") -> str:
        auth = f"{user}:{password}" if password is not None else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.user:
            entry = pwd.getpwnam(self.user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        return subprocess.run(args, check=check, capture_output=True, text=True, timeout=timeout,
                              cwd=self.root, **kwargs)

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args, check=check)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.root / "server.log"), "-o", self._options(), "start")

    def _options(self) -> str:
        # fsync off: a test cluster need not survive a power cut (a killed server still loses nothing).
        return (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB")

    def restart_immediate(self) -> None:
        """Crash-restart: 'pg_ctl restart -m immediate' (no shutdown checkpoint, clients cut off)."""
        self.pg_ctl("-l", str(self.root / "server.log"), "-o", self._options(), "-m", "immediate", "restart")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop", check=False)

    def admin(self, sql: str, dbname: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def fresh_database(self, *, init: bool = True) -> str:
        """A new empty database (with warroom's schema unless ``init=False``); returns its URL.

        The schema is made once, in a template database, and copied (~60 ms a database).
        """
        name = f"t{os.getpid()}_{next(_counter)}"
        if init and not self.template_ready:
            from tui.incident.store_pg import PgStore

            self.admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
            with PgStore(self.url(TEMPLATE), require_schema=False) as store:
                store.migrate()
            self.template_ready = True
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE if init else 'template0'}")
        self.databases.append(name)
        return self.url(name)


def start_server() -> PgServer:
    bin_dir = find_bin_dir()
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise NoPostgres("running as root and there is no 'postgres' user to run the server as") from None
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="warroom-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    os.chmod(root, 0o700)
    server = PgServer(bin_dir, root, free_port(), user)
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if user:
        os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
    try:
        server._run(str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", f"--pwfile={pwfile}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
        server.start()
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(root, ignore_errors=True)
        raise NoPostgres(f"could not start a test PostgreSQL: {exc.stderr.strip() or exc.stdout.strip()}") from None
    return server


def stop_server(server: PgServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
