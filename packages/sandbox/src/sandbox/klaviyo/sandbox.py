"""A Klaviyo sandbox in this process: ``with KlaviyoSandbox(profiles=200) as sb: sb.api_url``."""

from __future__ import annotations

from typing import Any

from sandbox.core.clock import parse_instant
from sandbox.core.control import SandboxControl
from sandbox.core.http import SandboxServer
from sandbox.klaviyo.app import KlaviyoEmulator, KlaviyoOptions
from sandbox.klaviyo.dataset import DatasetConfig, KlaviyoData


class KlaviyoSandbox:
    def __init__(
        self,
        *,
        seed: int = 1,
        profiles: int = 1_000,
        events: int = 10_000,
        now: str | None = None,
        port: int = 0,
        **options: Any,
    ) -> None:
        """``now``: where the generated history ends (default: midnight UTC today).
        ``options`` are ``KlaviyoOptions`` fields: api_keys, rate_limits, rate_scale, quirks,
        fault_seed, frozen_clock (the data clock stays at ``now`` until moved), monotonic
        (a clock object for rate-limit tests), latency_ms and latency_per_record_ms (each
        answer's modelled page time)."""
        if "api_keys" in options:
            options["api_keys"] = frozenset(options["api_keys"])
        anchor = parse_instant(now) if now else 0
        config = DatasetConfig(seed=seed, profiles=profiles, events=events, now=anchor)
        self.emulator = KlaviyoEmulator(config, KlaviyoOptions(**options))
        self.server = SandboxServer(self.emulator, port=port)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def api_url(self) -> str:
        return self.server.base_url + "/api"

    @property
    def data(self) -> KlaviyoData:
        return self.emulator.data

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.base_url)

    def start(self) -> KlaviyoSandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> KlaviyoSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
