"""A Pinterest Ads sandbox in this process: ``with PinterestSandbox(campaigns=40) as sb:
sb.base_url`` (``http://127.0.0.1:PORT/v5``)."""

from __future__ import annotations

from typing import Any

from sandbox.core.clock import parse_instant
from sandbox.core.control import SandboxControl
from sandbox.core.http import SandboxServer
from sandbox.pinterest.app import PinterestEmulator, PinterestOptions
from sandbox.pinterest.dataset import PinterestConfig, PinterestData
from sandbox.pinterest.operations import PREFIX


class PinterestSandbox:
    def __init__(
        self,
        seed: int = 1,
        campaigns: int = 40,
        now: str | None = None,
        port: int = 0,
        **options: Any,
    ) -> None:
        """``now``: where the generated history ends (default: midnight UTC today).
        ``options`` are ``PinterestOptions`` fields: tokens, clients (id -> secret),
        refresh_tokens, access_token_ttl, refresh_token_ttl, revoke_rotated,
        restatement_days, rate_limits, rate_scale, daily_limit, frozen_clock, monotonic,
        latency_ms and latency_per_record_ms."""
        config = PinterestConfig(
            seed=seed, campaigns=campaigns, now=parse_instant(now) if now else 0
        )
        self.emulator = PinterestEmulator(config, PinterestOptions(**options))
        self.server = SandboxServer(self.emulator, port=port)

    @property
    def base_url(self) -> str:
        """What the tap's ``api_url`` setting takes to reach this sandbox instead of Pinterest."""
        return self.server.base_url + PREFIX

    @property
    def data(self) -> PinterestData:
        return self.emulator.data

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.server.base_url)

    def start(self) -> PinterestSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> PinterestSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
