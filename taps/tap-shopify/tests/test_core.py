"""singer-sdk's standard tap tests, for every stream, against a sandbox."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.shopify.sandbox import ShopifySandbox
from tap_shopify.tap import TapShopify

# The standard suite builds its test class at import, from a config: the sandbox it points at
# starts here and stops when the test process exits.
_SANDBOX = ShopifySandbox(seed=8, orders=150, rate_limits=False).start()
atexit.register(_SANDBOX.stop)

TestTapShopify = get_tap_test_class(
    tap_class=TapShopify,
    config={
        "shop": "standard-tests",
        "base_url": _SANDBOX.base_url,
        "access_token": "shpat_standard_tests",
        "start_date": "2025-01-01T00:00:00Z",
        "rate_limit_percent": 0,
    },
    suite_config=SuiteConfig(max_records_limit=60),
)
