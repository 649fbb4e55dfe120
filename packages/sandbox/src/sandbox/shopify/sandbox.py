"""A Shopify sandbox in this process: ``with ShopifySandbox(orders=500) as sb: sb.api_url``."""

from __future__ import annotations

from typing import Any

from sandbox.core.clock import parse_instant
from sandbox.core.control import SandboxControl
from sandbox.core.http import SandboxServer
from sandbox.shopify.app import DEFAULT_VERSION, ShopifyEmulator, ShopifyOptions
from sandbox.shopify.dataset import ShopConfig, ShopData


class ShopifySandbox:
    def __init__(
        self,
        *,
        seed: int = 1,
        orders: int = 1_000,
        now: str | None = None,
        port: int = 0,
        klaviyo_seed: int | None = None,
        klaviyo_profiles: int = 0,
        **options: Any,
    ) -> None:
        """``now``: where the generated history ends (default: midnight UTC today).
        ``klaviyo_seed``/``klaviyo_profiles``: share customers' emails with a Klaviyo sandbox
        of that seed and size.  ``options`` are ``ShopifyOptions`` fields: tokens (token ->
        scopes), rate_limits, bucket_size, leak_per_second, utc_offset, frozen_clock,
        monotonic, latency_ms and latency_per_record_ms (each answer's modelled page time)."""
        if "tokens" in options:
            options["tokens"] = {t: frozenset(s) for t, s in options["tokens"].items()}
        config = ShopConfig(
            seed=seed,
            orders=orders,
            now=parse_instant(now) if now else 0,
            klaviyo_seed=klaviyo_seed,
            klaviyo_profiles=klaviyo_profiles,
        )
        self.emulator = ShopifyEmulator(config, ShopifyOptions(**options))
        self.server = SandboxServer(self.emulator, port=port)

    @property
    def base_url(self) -> str:
        """What the tap's ``shop`` setting takes to reach this sandbox instead of Shopify."""
        return self.server.base_url

    def api_url(self, version: str = DEFAULT_VERSION) -> str:
        return f"{self.server.base_url}/admin/api/{version}"

    @property
    def data(self) -> ShopData:
        return self.emulator.data

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.base_url)

    def start(self) -> ShopifySandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> ShopifySandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
