"""A declared API's sandbox, in this process or its own:

with DeclaredSandbox(API, seed=3) as sb: sb.base_url        # in a test
python -m sandbox.<name> --port 9060 --seed 7               # in the dev stack
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sandbox.cli import serve_until_stopped
from sandbox.core.clock import parse_instant
from sandbox.core.control import SandboxControl
from sandbox.core.http import SandboxServer
from sandbox.declared.app import DeclaredEmulator, DeclaredOptions
from sandbox.declared.data import DeclaredData
from sandbox.declared.spec import DeclaredApi


class DeclaredSandbox:
    def __init__(
        self,
        api: DeclaredApi,
        seed: int = 1,
        now: str | None = None,
        port: int = 0,
        **options: Any,
    ) -> None:
        """``now``: where the seeded history ends (default: midnight UTC today); ``options``
        are ``DeclaredOptions`` fields: rate_limits, rate_scale, frozen_clock, monotonic,
        latency_ms and latency_per_record_ms."""
        instant = parse_instant(now) if now else 0
        self.emulator = DeclaredEmulator(api, seed, instant, DeclaredOptions(**options))
        self.server = SandboxServer(self.emulator, port=port)

    @property
    def base_url(self) -> str:
        """What the tap's ``api_url`` takes to reach this sandbox."""
        return self.server.base_url + self.emulator.api.prefix.rstrip("/")

    @property
    def data(self) -> DeclaredData:
        return self.emulator.data

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.server.base_url)

    def start(self) -> DeclaredSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> DeclaredSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def command(module: str, port: int, seed: int, *, rate_limits: bool = True) -> list[str]:
    """The command line that serves ``sandbox.<module>`` in its own process."""
    flags = [] if rate_limits else ["--no-rate-limit"]
    return [
        sys.executable,
        "-m",
        f"sandbox.{module}",
        "--port",
        str(port),
        "--seed",
        str(seed),
        *flags,
    ]


def serve(api: DeclaredApi, argv: list[str] | None = None) -> None:
    """``python -m sandbox.<name>``: print the base URL once it accepts requests, then serve
    until stopped."""
    parser = argparse.ArgumentParser(prog=f"python -m sandbox.{api.name}")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", help="where the seeded history ends (ISO 8601)")
    parser.add_argument("--no-rate-limit", action="store_true", help="turn the rate limit off")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="page time per answer")
    parser.add_argument("--latency-per-record-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    sandbox = DeclaredSandbox(
        api,
        seed=args.seed,
        now=args.now,
        port=args.port,
        rate_limits=not args.no_rate_limit,
        latency_ms=args.latency_ms,
        latency_per_record_ms=args.latency_per_record_ms,
    )
    serve_until_stopped(sandbox, sandbox.base_url)
