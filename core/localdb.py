"""A private PostgreSQL + PostGIS cluster for development and tests.

`make up` keeps one under ./var/; the test suite starts a throwaway one per run.
PostgreSQL refuses to run as root, so when we are root the cluster runs as the
`postgres` system user. That user may not be able to enter the project folder
(a clone under /root, say), so the data directory then lives under /var/tmp and
./var/ only records where it is.

Command line: ``python -m core.localdb up|down|url [--dir DIR] [--port N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "fieldservice"
DB_USER = "fieldservice"
SERVICE_USER = "postgres"


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server binaries."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    if not candidates:
        found = shutil.which("initdb")
        if found is None:
            raise SystemExit("PostgreSQL server binaries not found (initdb)")
        return Path(found).parent
    return candidates[-1].parent


def postgis_available(bindir: Path) -> bool:
    version = bindir.parent.name
    return any(Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _service_user_can_enter(path: Path) -> bool:
    """Whether the service user can traverse every parent of `path`."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    result = subprocess.run(
        ["runuser", "-u", SERVICE_USER, "--", "test", "-x", str(probe)], capture_output=True, check=False
    )
    return result.returncode == 0


@dataclass
class LocalCluster:
    """One PostgreSQL cluster listening on 127.0.0.1:`port` only."""

    datadir: Path
    port: int
    password: str

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{DB_NAME}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if _running_as_root():
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check)

    def _chown(self, path: Path) -> None:
        if _running_as_root():
            entry = pwd.getpwnam(SERVICE_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self) -> None:
        bindir = pg_bindir()
        self.datadir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._chown(self.datadir)
        pwfile = self.datadir.parent / f".pw-{self.datadir.name}"
        pwfile.write_text(self.password)
        self._chown(pwfile)
        try:
            self._run(
                str(bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                DB_USER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        settings = (
            f"listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.datadir}'\n"
            "max_connections = 200\n"
            "shared_buffers = 128MB\n"
            "timezone = 'UTC'\n"
        )
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def tune_for_tests(self) -> None:
        """Durability is pointless for a throwaway cluster; speed is not."""
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")

    def running(self) -> bool:
        result = self._run(str(pg_bindir() / "pg_ctl"), "-D", str(self.datadir), "status", check=False)
        return result.returncode == 0

    def start(self) -> None:
        if not self.running():
            self._start_server()
        self._ensure_database()
        # The password on record (var/db-password) is the one that counts: a data
        # directory outliving its checkout (kept under /var/tmp for a clone under
        # /root) would otherwise refuse the new clone's password. Local socket
        # connections are trusted, so this always gets through.
        self._psql(f"ALTER ROLE \"{DB_USER}\" PASSWORD '{self.password}'")

    def _start_server(self) -> None:
        log = self.datadir / "server.log"
        result = self._run(
            str(pg_bindir() / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(log),
            # The port on the command line, not in postgresql.conf: a kept data directory is
            # started on whatever port is free this time, and its configuration stays as it is.
            "-o",
            f"-p {self.port}",
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{tail}")

    def _psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run(
            str(pg_bindir() / "psql"),
            "-h",
            str(self.datadir),
            "-p",
            str(self.port),
            "-U",
            DB_USER,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        )
        return result.stdout.strip()

    def _ensure_database(self) -> None:
        exists = self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")
        if exists != "1":
            self._psql(f'CREATE DATABASE "{DB_NAME}"')

    def stop(self) -> None:
        if self.initialised() and self.running():
            self._run(str(pg_bindir() / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


def data_home(project_var: Path) -> Path:
    """Where cluster data directories go for a project whose var/ folder is given."""
    project_var.mkdir(parents=True, exist_ok=True)
    if not _running_as_root() or _service_user_can_enter(project_var):
        return project_var
    tag = hashlib.sha256(str(project_var.resolve()).encode()).hexdigest()[:12]
    home = Path("/var/tmp") / f"fieldservice-{tag}"
    home.mkdir(parents=True, exist_ok=True, mode=0o755)
    return home


def throwaway_cluster(project_var: Path) -> LocalCluster:
    """A fresh cluster on a free port, for one test run."""
    project_var = project_var.resolve()
    home = data_home(project_var)
    if home != project_var:
        os.chmod(home, 0o755)
    datadir = home / f"test-pg-{os.getpid()}-{secrets.token_hex(3)}"
    cluster = LocalCluster(datadir=datadir, port=free_port(), password=secrets.token_urlsafe(16))
    cluster.init()
    cluster.tune_for_tests()
    cluster.start()
    return cluster


def dev_cluster(project_var: Path, port: int) -> LocalCluster:
    """The long-lived cluster of `make up`, its password kept under var/."""
    project_var = project_var.resolve()
    secret_file = project_var / "db-password"
    if not secret_file.exists():
        project_var.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(24))
        secret_file.chmod(0o600)
    home = data_home(project_var)
    return LocalCluster(datadir=home / "pgdata", port=port, password=secret_file.read_text().strip())


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.localdb", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "url"])
    parser.add_argument("--var", type=Path, default=Path("var"), help="the project's var/ folder")
    parser.add_argument("--port", type=int, default=int(os.environ.get("FSD_DB_PORT", "55432")))
    args = parser.parse_args(argv)
    var: Path = args.var.resolve()
    if not postgis_available(pg_bindir()):
        print(
            "PostGIS is not installed: run `make setup` (it installs postgresql-15-postgis-3)",
            file=sys.stderr,
        )
        return 1
    cluster = dev_cluster(var, args.port)
    if args.command == "up":
        if not cluster.initialised():
            cluster.init()
        cluster.start()
        _wait_for_port(cluster.port)
        (var / "database-url").write_text(cluster.url + "\n")
        print(f"PostgreSQL + PostGIS running on 127.0.0.1:{cluster.port} (data in {cluster.datadir})")
    elif args.command == "down":
        cluster.stop()
        print("PostgreSQL stopped")
    else:
        print(cluster.url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
