"""The embedded Postgres: project-local, reused across runs, unless a server is configured."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATABASE = "tapworks"
# Meltano's system tables (runs, state) go to this schema of the data database.
MELTANO_SCHEMA = "meltano"
CONFIGURED_SERVER_SETTINGS = ("TARGET_POSTGRES_SQLALCHEMY_URL", "TARGET_POSTGRES_HOST")


@dataclass(frozen=True)
class Embedded:
    data_dir: Path
    socket_dir: Path
    psql: Path

    def url(self, database: str = DATABASE, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@/{database}?host={self.socket_dir}"

    def meltano_url(self, database: str = DATABASE) -> str:
        """Meltano's system database: ``database``, schema ``meltano``."""
        return f"{self.url(database)}&options=-csearch_path%3D{MELTANO_SCHEMA}"

    def psql_command(self, database: str = DATABASE) -> str:
        return f"{self.psql} -h {self.socket_dir} -U postgres {database}"


def configured_server(env: dict[str, str]) -> str | None:
    """The setting that names a configured server, if any: configured servers win."""
    return next((name for name in CONFIGURED_SERVER_SETTINGS if env.get(name)), None)


def start(data_dir: Path, databases: tuple[str, ...] = (DATABASE,)) -> Embedded:
    """Start (or find running) the server in ``data_dir``; make sure ``databases`` exist, each
    with the schema Meltano keeps its system tables in."""
    with _quiet_runtime_dir():
        import pgserver

        logging.getLogger("pgserver").setLevel(logging.WARNING)
        data_dir.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode=None)
    info = server.get_postmaster_info()
    embedded = Embedded(
        data_dir,
        Path(str(info.socket_dir)),
        Path(pgserver.__file__).parent / "pginstall" / "bin" / "psql",
    )
    create_databases(embedded, databases)
    return embedded


def create_databases(embedded: Embedded, databases: tuple[str, ...]) -> None:
    import psycopg

    with psycopg.connect(
        embedded.url("postgres", driver="postgresql"), autocommit=True
    ) as connection:
        existing = {row[0] for row in connection.execute("select datname from pg_database")}
        for name in databases:
            if name not in existing:
                connection.execute(f'create database "{name}"'.encode())
    for name in databases:
        with psycopg.connect(
            embedded.url(name, driver="postgresql"), autocommit=True
        ) as connection:
            connection.execute(f'create schema if not exists "{MELTANO_SCHEMA}"'.encode())


def stop(data_dir: Path) -> bool:
    """Stop the server in ``data_dir`` if one runs there; True if one was stopped."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    with _quiet_runtime_dir():
        from pgserver import _commands  # pgserver's own wrapper; it knows the binaries' path

    user = "pgserver" if os.geteuid() == 0 else None  # as root, pgserver runs Postgres as this user
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)  # type: ignore[attr-defined]
    return True


@contextlib.contextmanager
def _quiet_runtime_dir() -> Iterator[None]:
    # pgserver keeps its lock (and, for long data paths, its socket) under the XDG runtime
    # dir; without one, platformdirs warns. Give it a short private one.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(f"/tmp/tapworks-runtime-{os.getuid()}")
        runtime.mkdir(exist_ok=True)
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    yield
