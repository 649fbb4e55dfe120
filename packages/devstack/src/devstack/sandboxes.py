"""The API sandboxes as background processes the project's commands can rely on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from sandbox.cli import klaviyo_command

DEFAULT_PORT = 8765


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


def running_url(state_dir: Path) -> str | None:
    pid_file, url_file = state_dir / "sandbox.pid", state_dir / "sandbox.url"
    if not pid_file.exists() or not url_file.exists():
        return None
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return None
    return url_file.read_text().strip()


def start(state_dir: Path, port: int, *, profiles: int, events: int, seed: int = 7) -> str:
    """Start ``python -m sandbox klaviyo`` detached (it outlives this command); return its API URL."""
    if url := running_url(state_dir):
        return url
    state_dir.mkdir(parents=True, exist_ok=True)
    log = (state_dir / "sandbox.log").open("w")
    process = subprocess.Popen(
        klaviyo_command(free_port(port), seed, profiles, events),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        raise RuntimeError(f"the sandbox did not start; see {state_dir / 'sandbox.log'}")
    (state_dir / "sandbox.pid").write_text(str(process.pid))
    (state_dir / "sandbox.url").write_text(url)
    return url


def stop(state_dir: Path) -> bool:
    pid_file = state_dir / "sandbox.pid"
    if running_url(state_dir) is None:
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
