"""singer-sdk's standard tap tests, for every stream, against a sandbox."""

from __future__ import annotations

from sandbox.shopify.sandbox import ShopifySandbox
from tap_shopify.tap import TapShopify
from tapkit.testing import standard_test_class

TestTapShopify = standard_test_class(
    TapShopify,
    ShopifySandbox(seed=8, orders=150, rate_limits=False),
    lambda sandbox: {
        "shop": "standard-tests",
        "base_url": sandbox.base_url,
        "access_token": "shpat_standard_tests",
        "start_date": "2025-01-01T00:00:00Z",
        "rate_limit_percent": 0,
    },
)
