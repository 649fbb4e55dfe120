"""singer-sdk's standard tap tests, for every stream, against a sandbox."""

from __future__ import annotations

from sandbox.onetrust.sandbox import OneTrustSandbox
from tap_onetrust.tap import TapOneTrust
from tapkit.testing import standard_test_class

TestTapOneTrust = standard_test_class(
    TapOneTrust,
    OneTrustSandbox(seed=8, requests=60, rate_limits=False),
    lambda sandbox: {
        "base_url": sandbox.base_url,
        "client_id": "standard-tests",
        "client_secret": "standard-tests-secret",
        "start_date": "2025-06-01T00:00:00Z",
        "rate_limit_percent": 0,
    },
)
