"""``tap-shopify``: settings, streams, and the checks run before any request."""

from __future__ import annotations

import re

from singer_sdk import typing as th

from tap_shopify.client import MAX_PAGE_SIZE
from tap_shopify.streams import STREAMS
from tapkit.settings import common_settings
from tapkit.tap import PoliteTap

DEFAULT_API_VERSION = "2025-10"
_VERSION = re.compile(r"\d{4}-(01|04|07|10)")
_SHOP = re.compile(r"[a-z0-9][a-z0-9-]*(\.myshopify\.com)?", re.IGNORECASE)


class TapShopify(PoliteTap):
    """Shopify orders (with transactions), customers, products, locations and inventory levels."""

    name = "tap-shopify"
    package_name = "tapworks-tap-shopify"
    stream_classes = STREAMS
    endpoint_prefix = "/admin/api/{version}"
    #: The hub's default tap-shopify names the shop `store`.
    setting_aliases = {"store": "shop"}

    config_jsonschema = th.PropertiesList(
        th.Property(
            "shop",
            th.StringType,
            required=True,
            description="The shop's myshopify name: 'my-store' or 'my-store.myshopify.com'.",
        ),
        th.Property(
            "access_token",
            th.StringType,
            required=True,
            secret=True,
            description="Admin API access token (shpat_...) with read_orders, read_all_orders (for orders "
            "older than 60 days), read_customers, read_products, read_inventory and read_locations.",
        ),
        th.Property(
            "api_version",
            th.StringType,
            default=DEFAULT_API_VERSION,
            description="Admin API version (YYYY-MM, a quarter's first month). Schemas follow 2025-10; a "
            "retired version is served as the oldest supported one, and the tap warns.",
        ),
        th.Property(
            "base_url",
            th.StringType,
            description="Send requests here instead of https://<shop>.myshopify.com (a proxy, or the sandbox).",
        ),
        *common_settings(max_concurrent_requests=4),
        th.Property(
            "calls_per_second",
            th.IntegerType,
            default=2,
            description="The shop's REST leak rate: 2 (standard plans), 4 (Advanced), 20 (Plus). The "
            "call-limit header of every answer keeps the tap's pace in step with the shop's bucket.",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=MAX_PAGE_SIZE,
            description="Records per page (limit), at most 250. Smaller pages help when a shop's large pages time out.",
        ),
    ).to_dict()

    def check_config(self) -> list[str]:
        errors = []
        version = str(self.config.get("api_version", DEFAULT_API_VERSION))
        if version != "unstable" and not _VERSION.fullmatch(version):
            errors.append(
                f"api_version: {version!r} is not a Shopify API version; use e.g. {DEFAULT_API_VERSION}"
            )
        shop = str(self.config.get("shop") or "").strip().removeprefix("https://")
        if shop and not _SHOP.fullmatch(shop.rstrip("/")):
            errors.append(
                f"shop: {shop!r} is not a shop name; use 'my-store' or 'my-store.myshopify.com'"
            )
        base_url = self.config.get("base_url")
        if base_url and not str(base_url).startswith(("http://", "https://")):
            errors.append(f"base_url: {base_url!r} is not an http(s) URL")
        for name, low, high in (("calls_per_second", 1, 1000), ("page_size", 1, MAX_PAGE_SIZE)):
            value = self.config.get(name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high
            ):
                errors.append(f"{name}: must be an integer from {low} to {high}, got {value!r}")
        return errors
