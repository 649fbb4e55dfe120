"""The API sandboxes as background processes the project's commands can rely on.

Each runs as ``python -m sandbox <api>`` detached from the command that started it, with its
pid, URL and log under ``.local/`` as ``sandbox-<api>.pid|url|log``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

#: API -> default port (the environment's TAPWORKS_<API>_PORT overrides it).
DEFAULT_PORTS = {
    "klaviyo": 8765,
    "shopify": 8767,
    "onetrust": 8768,
    "pinterest": 8769,
    "bigquery": 9050,  # REST; its gRPC (Storage Read) on the next port
    # devstack new-source: source ports above
}
#: Sources whose emulator is declared (``sandbox.<module>.api``), started by one command each:
#: API -> (its module under ``sandbox``, its label).
DECLARED: dict[str, tuple[str, str]] = {
    # devstack new-source: declared sandboxes above
}


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


def _file(state_dir: Path, api: str, suffix: str) -> Path:
    return state_dir / f"sandbox-{api}.{suffix}"


def running_url(state_dir: Path, api: str) -> str | None:
    pid_file, url_file = _file(state_dir, api, "pid"), _file(state_dir, api, "url")
    if not pid_file.exists() or not url_file.exists():
        return None
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return None
    return url_file.read_text().strip()


def start(state_dir: Path, api: str, port: int, command: Callable[[int], list[str]]) -> str:
    """Start ``command(port)`` (``port`` if free, else any free one) unless the sandbox is
    already running; it outlives this command. Return the URL it prints."""
    if url := running_url(state_dir, api):
        return url
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = _file(state_dir, api, "log")
    process = subprocess.Popen(
        command(free_port(port)),
        stdout=subprocess.PIPE,
        stderr=log_path.open("w"),
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        raise RuntimeError(f"the {api} sandbox did not start; see {log_path}")
    _file(state_dir, api, "pid").write_text(str(process.pid))
    _file(state_dir, api, "url").write_text(url)
    return url


def stop(state_dir: Path, api: str) -> bool:
    pid_file = _file(state_dir, api, "pid")
    if running_url(state_dir, api) is None:
        pid_file.unlink(missing_ok=True)
        return False
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return True
