"""singer-sdk's standard tap tests, for every stream, against a sandbox."""

from __future__ import annotations

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tap_klaviyo.tap import TapKlaviyo
from tapkit.testing import standard_test_class

TestTapKlaviyo = standard_test_class(
    TapKlaviyo,
    KlaviyoSandbox(seed=8, profiles=300, events=2_000, rate_limits=False),
    lambda sandbox: {
        "api_key": "pk_standard_tests",
        "api_url": sandbox.api_url,
        "start_date": "2024-01-01T00:00:00Z",
        "rate_limit_percent": 0,
        "include_related": {"events": ["metric", "profile"]},
        "profile_additional_fields": ["subscriptions"],
    },
)
