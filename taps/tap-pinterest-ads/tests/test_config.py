"""Bad settings fail before any request, naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapkit.testing import refused_config

CASES: dict[str, tuple[dict[str, object], str]] = {
    "no refresh token": ({"refresh_token": None}, "refresh_token"),
    "no secret": ({"client_secret": None}, "client_secret"),
    "bad status": ({"entity_statuses": ["ACTIVE", "GONE"]}, "entity_statuses"),
    "bad column": ({"analytics_columns": ["spend in dollars"]}, "analytics_columns"),
    "lookback past the api": ({"analytics_lookback_days": 120}, "analytics_lookback_days"),
    "bad account": ({"ad_account_ids": ["acct-1"]}, "ad_account_ids"),
    "bad url": ({"api_url": "api.pinterest.com"}, "api_url"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_setting_is_named(case: str, tmp_path: Path) -> None:
    overrides, setting = CASES[case]
    config: dict[str, object] = {
        "api_url": "http://127.0.0.1:9/v5",  # nothing listens: any request would fail differently
        "client_id": "1484362",
        "client_secret": "secret-value-123",
        "refresh_token": "pinr_refresh-value-456",
        **overrides,
    }
    error, stderr = refused_config("tap_pinterest_ads", config, tmp_path)
    assert setting in error, stderr[-2000:]
    assert "secret-value-123" not in stderr
    assert "pinr_refresh-value-456" not in stderr
