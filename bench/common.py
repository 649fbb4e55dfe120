"""What every benchmark shares: the sandbox in its own process, process accounting from /proc,
the machine's description, and the shape of a result row."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg

from devstack.postgres import Embedded
from sandbox.cli import klaviyo_command
from sandbox.core.control import SandboxControl

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    """One line of the table: a figure, what it is compared with, and the goal."""

    id: str
    case: str
    value: float
    unit: str
    reference: float | None = None
    reference_label: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


class Sandbox:
    """``python -m sandbox klaviyo`` in its own process, so its CPU is not the client's."""

    def __init__(
        self,
        profiles: int,
        events: int,
        *,
        rate_limits: bool = False,
        seed: int = 7,
        frozen_clock: bool = False,
        latency_ms: float = 0,
        latency_per_record_ms: float = 0,
    ):
        self.args = klaviyo_command(
            0,
            seed,
            profiles,
            events,
            rate_limits=rate_limits,
            frozen_clock=frozen_clock,
            latency_ms=latency_ms,
            latency_per_record_ms=latency_per_record_ms,
        )
        self.process: subprocess.Popen[str] | None = None
        self.api_url = ""

    def __enter__(self) -> Sandbox:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.api_url = self.process.stdout.readline().strip()
        if not self.api_url:
            raise RuntimeError(f"the sandbox did not start: {' '.join(self.args)}")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.api_url.removesuffix("/api"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@dataclass
class Usage:
    name: str
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0


class Watcher:
    """Samples a process tree every ``interval`` s: CPU seconds and peak RSS per process, labelled
    by ``names`` (a pattern found in the program or script it runs -> a label; else ``other``)."""

    def __init__(self, root_pid: int, names: dict[str, str], interval: float = 0.1) -> None:
        self.root_pid, self.names, self.interval = root_pid, names, interval
        self.seen: dict[int, Usage] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _name(self, pid: int) -> str:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        for text in (" ".join(argv[:2]), " ".join(argv)):
            for pattern, label in self.names.items():
                if pattern in text:
                    return label
        return "other"

    def _sample(self) -> None:
        pending = [self.root_pid]
        while pending:
            pid = pending.pop()
            try:
                usage = self.seen.get(pid) or Usage("other")
                # again: a wrapper script execs the real program; but a process that has
                # exited (a zombie: no cmdline) keeps the name it had
                name = self._name(pid)
                if name != "other" or usage.name == "other":
                    usage.name = name
                usage.cpu_seconds = cpu_seconds(pid)
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        usage.peak_rss_mb = int(line.split()[1]) / 1024
                self.seen[pid] = usage
                pending += _children(pid)
            except (OSError, ValueError, IndexError):
                continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def totals(self) -> dict[str, Usage]:
        merged: dict[str, Usage] = {}
        for usage in self.seen.values():
            total = merged.setdefault(usage.name, Usage(usage.name))
            total.cpu_seconds += usage.cpu_seconds
            total.peak_rss_mb = max(total.peak_rss_mb, usage.peak_rss_mb)
        return merged


def timed(
    command: list[str], stdin: IO[bytes] | None = None, stdout: IO[bytes] | int = subprocess.DEVNULL
) -> tuple[float, float]:
    """Run ``command`` to completion: wall seconds and peak RSS in MB; a failure raises with
    the end of its stderr."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=stderr)
        with Watcher(process.pid, {"": "process"}) as watcher:
            _, status, _ = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed:\n{stderr.read().decode()[-2000:]}")
    return wall, peak_rss_mb(watcher)


def meltanolabs_config(pg: Embedded, schema: str) -> dict[str, Any]:
    """MeltanoLabs' target-postgres as this project configures its alternative loader
    (``target-postgres-meltanolabs`` in plugins/loaders.meltano.yml)."""
    return {
        "sqlalchemy_url": pg.url("bench"),
        "default_target_schema": schema,
        "use_copy": True,
        "add_record_metadata": True,
        "sanitize_null_text_characters": True,
        "validate_records": False,
    }


def drop_schema(pg: Embedded, schema: str) -> None:
    with psycopg.connect(pg.url("bench", driver="postgresql"), autocommit=True) as connection:
        connection.execute(f"drop schema if exists {schema} cascade".encode())


def peak_rss_mb(watcher: Watcher) -> float:
    """The watched process's high-water mark (VmHWM). Not wait4's ru_maxrss: that survives
    exec, so a child forked from this (large) process would report this process's size."""
    return max((u.peak_rss_mb for u in watcher.seen.values()), default=0.0)


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    versions = {}
    for package in (
        "singer-sdk",
        "meltano",
        "msgspec",
        "requests",
        "psycopg",
        "tapworks-tap-klaviyo",
        "tapworks-target-postgres",
    ):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    target = sorted(
        (ROOT / ".meltano" / "loaders" / "target-postgres-meltanolabs" / "venv").glob(
            "lib/python*/site-packages/meltanolabs_target_postgres-*.dist-info"
        )
    )
    versions["meltanolabs-target-postgres"] = (
        target[-1].name.removesuffix(".dist-info").split("-")[1] if target else "not installed"
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version(),
        "os": platform.platform(),
        "packages": versions,
    }
