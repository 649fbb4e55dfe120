"""singer-sdk's standard tap tests, for every stream, against a sandbox."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tap_klaviyo.tap import TapKlaviyo

# The standard suite builds its test class at import, from a config: the sandbox it points at
# starts here and stops when the test process exits.
_SANDBOX = KlaviyoSandbox(seed=8, profiles=300, events=2_000, rate_limits=False).start()
atexit.register(_SANDBOX.stop)

TestTapKlaviyo = get_tap_test_class(
    tap_class=TapKlaviyo,
    config={
        "api_key": "pk_standard_tests",
        "api_url": _SANDBOX.api_url,
        "start_date": "2024-01-01T00:00:00Z",
        "rate_limit_percent": 0,
        "include_related": {"events": ["metric", "profile"]},
        "profile_additional_fields": ["subscriptions"],
    },
    suite_config=SuiteConfig(max_records_limit=60),
)
