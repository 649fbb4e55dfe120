"""Running tap-klaviyo (and the floor program) straight against the sandbox, output discarded
or kept: wall time, peak memory, and the requests the sandbox saw."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from common import ROOT, Sandbox, timed

from tap_klaviyo.tap import TapKlaviyo
from tapkit.testing import TapRunner


@dataclass
class Measured:
    wall: float
    peak_rss_mb: float
    requests: list[dict[str, Any]]


def run(
    command: list[str], sandbox: Sandbox, out: IO[bytes] | int = subprocess.DEVNULL
) -> Measured:
    """Run ``command`` to completion: wall time, peak RSS, and the requests the sandbox saw."""
    logged = sandbox.control.requests()
    since = logged[-1]["seq"] if logged else 0
    wall, peak = timed(command, stdout=out)
    return Measured(wall, peak, sandbox.control.requests(since))


def tap(workdir: Path, sandbox: Sandbox, **config: Any) -> TapRunner:
    return TapRunner(
        module="tap_klaviyo",
        tap_class=TapKlaviyo,
        workdir=workdir,
        base_config={
            "api_key": "pk_bench",
            "api_url": sandbox.api_url,
            "start_date": history_start(sandbox),
            "rate_limit_percent": 0,
            "replace_nul_characters": True,  # B7 loads the output into MeltanoLabs' loader too
            **config,
        },
    )


TAP_PYTHON = ROOT / ".meltano" / "extractors" / "tap-klaviyo" / "venv" / "bin" / "python"


def tap_command(runner: TapRunner, stream: str, **overrides: Any) -> list[str]:
    """The tap as Meltano installs it: its own venv holds only what it needs, and what it
    imports at start-up is part of what it costs."""
    command = runner.command(runner.config(**overrides), None, [stream])
    return [str(TAP_PYTHON), *command[1:]]


def first_pages(requests_seen: list[dict[str, Any]], path: str, sandbox: Sandbox) -> list[str]:
    """The URLs of the first pages the tap asked ``path`` for: one per window or partition."""
    base = sandbox.api_url.removesuffix("/api")
    return [
        f"{base}{r['path']}?{urlencode(r['query'], doseq=True)}"
        for r in requests_seen
        if r["path"] == path and "page[cursor]" not in r["query"]
    ]


def floor_command(stream: str, urls: list[str], workdir: Path) -> list[str]:
    """The floor program, asked for exactly the pages the tap asked for."""
    urls_file = workdir / f"{stream}-first-pages.txt"
    urls_file.write_text("\n".join(urls))
    return [sys.executable, str(ROOT / "bench" / "floor.py"), stream, str(urls_file)]


def history_start(sandbox: Sandbox) -> str:
    """The sandbox's generated history spans 730 days before its ``now``: start just before."""
    now = datetime.fromisoformat(sandbox.control.info()["now"])
    return (now - timedelta(days=731)).strftime("%Y-%m-%dT00:00:00Z")
