"""Bad settings fail before any request, naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tapkit.testing import refused_config

CASES: dict[str, tuple[dict[str, object], str]] = {
    "no host": ({"hostname": None, "base_url": None}, "hostname"),
    "bad host": ({"hostname": "not a host", "base_url": None}, "hostname"),
    "bad language": ({"language": "english please"}, "language"),
    "data subject window": ({"data_subject_window_days": 8}, "data_subject_window_days"),
    "zero window": ({"consent_window_hours": 0}, "consent_window_hours"),
    "no secret": ({"client_secret": None}, "client_secret"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_setting_is_named(case: str, tmp_path: Path) -> None:
    overrides, setting = CASES[case]
    config: dict[str, object] = {
        "hostname": "app-eu.onetrust.com",
        "base_url": "http://127.0.0.1:9",  # nothing listens: any request would fail differently
        "client_id": "id",
        "client_secret": "secret-value-123",
        "start_date": "2025-01-01T00:00:00Z",
        **overrides,
    }
    error, stderr = refused_config("tap_onetrust", config, tmp_path)
    assert setting in error
    assert "secret-value-123" not in stderr
