"""Bad settings fail before any request, naming the setting."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    path = tmp_path / "config.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if v is not None}))
    done = subprocess.run(
        [sys.executable, "-m", "tap_pinterest_ads", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    error = done.stderr.strip().splitlines()[-1]
    assert setting in error, done.stderr[-2000:]
    assert "secret-value-123" not in done.stderr
    assert "pinr_refresh-value-456" not in done.stderr
