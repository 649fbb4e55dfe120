"""A OneTrust sandbox in this process: ``with OneTrustSandbox(requests=500) as sb: sb.base_url``."""

from __future__ import annotations

from typing import Any

from sandbox.core.clock import parse_instant
from sandbox.core.control import SandboxControl
from sandbox.core.http import SandboxServer
from sandbox.onetrust.app import OneTrustEmulator, OneTrustOptions
from sandbox.onetrust.dataset import OneTrustConfig, OneTrustData


class OneTrustSandbox:
    def __init__(
        self,
        seed: int = 1,
        requests: int = 500,
        now: str | None = None,
        port: int = 0,
        **options: Any,
    ) -> None:
        """``now``: where the generated history ends (default: midnight UTC today).
        ``options`` are ``OneTrustOptions`` fields: clients (id -> secret), token_ttl,
        v4_enabled, rate_limits, rate_scale, frozen_clock, monotonic, latency_ms and
        latency_per_record_ms."""
        config = OneTrustConfig(seed=seed, requests=requests, now=parse_instant(now) if now else 0)
        self.emulator = OneTrustEmulator(config, OneTrustOptions(**options))
        self.server = SandboxServer(self.emulator, port=port)

    @property
    def base_url(self) -> str:
        """What the tap's ``base_url`` setting takes to reach this sandbox instead of OneTrust."""
        return self.server.base_url

    @property
    def data(self) -> OneTrustData:
        return self.emulator.data

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.base_url)

    def start(self) -> OneTrustSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> OneTrustSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
