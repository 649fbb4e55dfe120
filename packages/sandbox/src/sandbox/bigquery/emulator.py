"""A real BigQuery emulator on 127.0.0.1, offline: ``bqemulator`` (REST and the Storage Read
API over gRPC, on DuckDB) in a venv of its own.

Its pins cannot live in the workspace's lock (it needs ``duckdb==1.5.5``; the workspace has
DuckDB 2), so the first start builds a venv under ``.local/bqemulator-venv/<key>/`` (the key
names the pins; about 500 MB, a minute or two) and later starts reuse it.  Two workarounds make
it start without the internet, both done once, at install:

- at start it runs DuckDB's ``INSTALL spatial``, which downloads the extension: the
  ``duckdb-extension-spatial`` wheel's copy is installed first, into a DuckDB home inside the
  venv's folder (the emulator runs with ``HOME`` there, so the user's ``~/.duckdb`` is left
  alone), after which its own ``INSTALL`` finds it;
- it imports numpy without declaring it.

    with BigQueryEmulator() as emulator:
        emulator.rest_url        # the tap's api_endpoint
        emulator.grpc_endpoint   # its storage_api_endpoint

``python -m sandbox.bigquery --port N`` runs one in the foreground and prints its REST URL
first (what ``devstack.sandboxes.start`` reads).  The emulator does not model bytes billed: a
dry run always reports 0 bytes and ``maximumBytesBilled`` is not enforced.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

PINS = (
    "bqemulator==1.4.0",
    "duckdb==1.5.5",
    "duckdb-extension-spatial==1.5.5",
    "numpy==2.4.6",
)
#: Where venvs go unless told: the workspace's ``.local/`` (this file is in
#: packages/sandbox/src/sandbox/bigquery/), overridden by TAPWORKS_BQEMULATOR_HOME.
DEFAULT_HOME = Path(__file__).resolve().parents[5] / ".local" / "bqemulator-venv"
START_TIMEOUT = 90.0

_SPATIAL = """
import pathlib, duckdb, duckdb_extension_spatial
path = pathlib.Path(duckdb_extension_spatial.__file__).parent
found = sorted(path.rglob("spatial.duckdb_extension"))
connection = duckdb.connect()
connection.execute(f"INSTALL '{found[0]}'")
connection.execute("LOAD spatial")
"""


class EmulatorError(RuntimeError):
    """The emulator could not be installed or started (the message says where its log is)."""


def venv_key() -> str:
    text = "\n".join((*PINS, f"python {sys.version_info.major}.{sys.version_info.minor}"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def installed(home: Path | None = None) -> Path:
    """The emulator's folder (``venv/``, ``duckdb-home/``), installed first if it is not yet;
    safe to call from several processes at once (a file lock)."""
    home = Path(home or os.environ.get("TAPWORKS_BQEMULATOR_HOME") or DEFAULT_HOME)
    folder = home / venv_key()
    ready = folder / "ready"
    if ready.exists():
        return folder
    home.mkdir(parents=True, exist_ok=True)
    with (home / f"{venv_key()}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            _install(folder)
            ready.write_text("\n".join(PINS) + "\n")
    return folder


def _install(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)  # a half-built venv from an interrupted install
    (folder / "duckdb-home").mkdir(parents=True)
    venv, python = folder / "venv", folder / "venv" / "bin" / "python"
    log = folder / "install.log"
    uv = _uv()
    with log.open("w") as out:
        if uv is not None:
            steps = [
                [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                [uv, "pip", "install", "--quiet", "--python", str(python), *PINS],
            ]
        else:
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "--quiet", *PINS],
            ]
        steps.append([str(python), "-c", _SPATIAL])
        for step in steps:
            done = subprocess.run(step, stdout=out, stderr=out, env=_env(folder), check=False)
            if done.returncode != 0:
                raise EmulatorError(f"installing the BigQuery emulator failed: see {log}")


def _uv() -> str | None:
    """uv from the environment, beside this Python, or the workspace's ``.tools/``."""
    for candidate in (
        os.environ.get("UV"),
        shutil.which("uv"),
        str(Path(sys.executable).with_name("uv")),
        str(Path(__file__).resolve().parents[5] / ".tools" / "bin" / "uv"),
    ):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _env(folder: Path, **extra: str) -> dict[str, str]:
    # DuckDB keeps extensions under $HOME/.duckdb: a home of the emulator's own
    env = {**os.environ, "HOME": str(folder / "duckdb-home"), **extra}
    env.pop("VIRTUAL_ENV", None)
    return env


def _die_with_parent() -> None:
    """In the child: SIGTERM when the process that started it dies, even by SIGKILL (Linux), so
    a killed test run leaves no emulator behind."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BigQueryEmulator:
    """One emulator process: ``start()`` waits until it answers, ``stop()`` ends it.
    ``data_dir`` keeps its tables across restarts (default: in memory)."""

    def __init__(
        self,
        *,
        port: int = 0,
        grpc_port: int = 0,
        project: str = "tapworks",
        data_dir: Path | None = None,
        log_path: Path | None = None,
        home: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.project = project
        self.data_dir = data_dir
        self.home = home
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def command(self, folder: Path) -> list[str]:
        command = [
            str(folder / "venv" / "bin" / "bqemulator"),
            "start",
            "--rest-host=127.0.0.1",
            f"--rest-port={self.port}",
            "--grpc-host=127.0.0.1",
            f"--grpc-port={self.grpc_port}",
            f"--project={self.project}",
            "--log-level=warning",
        ]
        return [*command, f"--data-dir={self.data_dir}"] if self.data_dir else command

    def start(self) -> BigQueryEmulator:
        folder = installed(self.home)
        log_path = self.log_path or folder / f"emulator-{self.port}.log"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(folder),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=_env(folder),
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise EmulatorError(f"the BigQuery emulator did not start: see {log_path}")
            time.sleep(0.2)
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.rest_url}/readyz", timeout=2) as answer:
                if answer.status != 200:
                    return False
            with socket.create_connection(("127.0.0.1", self.grpc_port), timeout=2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self, project: str | None = None) -> Any:
        """A ``google.cloud.bigquery.Client`` on this emulator (anonymous credentials)."""
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(
            project=project or self.project,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.rest_url),
        )

    def __enter__(self) -> BigQueryEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_shared: BigQueryEmulator | None = None


def shared() -> BigQueryEmulator:
    """One emulator for this whole process (a test session), started on first use and
    stopped when the process exits."""
    global _shared
    if _shared is None:
        import atexit

        _shared = BigQueryEmulator().start()
        atexit.register(_shared.stop)
    return _shared


def main(argv: list[str] | None = None) -> None:
    """Run in the foreground until SIGTERM/SIGINT; print the REST URL (then the gRPC
    endpoint) once it answers."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sandbox.bigquery", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="REST port (default: a free one)")
    parser.add_argument("--grpc-port", type=int, default=0, help="gRPC port (default: free)")
    parser.add_argument("--project", default="tapworks")
    parser.add_argument("--data-dir", type=Path, help="keep tables here across restarts")
    parser.add_argument(
        "--demo-orders", type=int, default=0, help="load the demo dataset: this many orders"
    )
    parser.add_argument("--demo-events", type=int, default=0, help="and this many web events")
    args = parser.parse_args(argv)
    emulator = BigQueryEmulator(
        port=args.port, grpc_port=args.grpc_port, project=args.project, data_dir=args.data_dir
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with emulator:
        if args.demo_orders or args.demo_events:
            from sandbox.bigquery.dataset import load_demo

            load_demo(emulator.client(), orders=args.demo_orders, events=args.demo_events)
        print(emulator.rest_url, flush=True)
        print(f"grpc {emulator.grpc_endpoint}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            assert emulator.process is not None
            emulator.process.wait()
