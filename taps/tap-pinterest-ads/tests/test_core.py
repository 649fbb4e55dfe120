"""singer-sdk's standard tap tests, for every stream, against a sandbox."""

from __future__ import annotations

from tap_pinterest_ads.tap import TapPinterestAds

from sandbox.pinterest.sandbox import PinterestSandbox
from tapkit.testing import standard_test_class

TestTapPinterestAds = standard_test_class(
    TapPinterestAds,
    # the standard tests run the tap many times with one refresh token: none is retired
    PinterestSandbox(seed=8, campaigns=8, rate_limits=False, revoke_rotated=False),
    lambda sandbox: {
        "api_url": sandbox.base_url,
        "client_id": "standard-tests",
        "client_secret": "standard-tests-secret",
        "refresh_token": "pinr_standard-tests",
        "rate_limit_percent": 0,
    },
)
