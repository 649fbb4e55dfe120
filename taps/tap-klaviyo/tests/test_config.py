"""Bad settings fail before any request, with a message naming the setting."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tap_klaviyo.tap import TapKlaviyo
from tapkit.testing import Run, TapRunner


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"api_key": None}, "api_key"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-04-01T00:00:00Z"}, "end_date"),
        ({"include_related": {"evnts": ["metric"]}}, "evnts"),
        ({"include_related": {"events": ["campaign"]}}, "campaign"),
        ({"page_sizes": {"profiles": "big"}}, "big"),
        ({"api_key": "abc123"}, "pk_"),
        ({"revision": "latest"}, "revision"),
        ({"backfill_window_days": 0}, "backfill_window_days"),
        ({"api_url": "a.klaviyo.com/api"}, "api_url"),
        ({"events_lookback": "two days"}, "events_lookback"),
        ({"reread_last_days": 0}, "reread_last_days"),
        (
            {"page_sise": 10, "strict_settings": True},
            "page_sise: unknown setting, ignored; did you mean page_sizes?",
        ),
        ({"auth_token": "pk_other0123456789"}, "auth_token: is another name for api_key"),
    ],
)
def test_bad_config_fails_before_any_request(
    run_tap: TapRunner, sandbox: KlaviyoSandbox, overrides: dict[str, Any], fragment: str
) -> None:
    run = (
        run_tap(streams=None, **overrides)
        if overrides.get("api_key", "") is not None
        else _without_key(run_tap)
    )
    assert run.returncode != 0
    assert fragment in run.stderr, run.stderr[-1500:]
    assert sandbox.control.requests() == []
    assert not [m for m in run.messages if m["type"] in ("RECORD", "STATE")]


def _without_key(run_tap: TapRunner) -> Run:
    config = dict(run_tap.base_config)
    del config["api_key"]
    return TapRunner(run_tap.module, run_tap.tap_class, run_tap.workdir, config)()


def test_page_sizes_above_the_maximum_are_capped(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    run = run_tap(streams=["profiles"], page_sizes={"profiles": 500})
    assert run.returncode == 0
    sizes = {
        e["query"]["page[size]"][0]
        for e in sandbox.control.requests()
        if e["path"] == "/api/profiles" and "page[size]" in e["query"]
    }
    assert sizes == {"100"}
    assert "allows at most 100" in run.stderr


def test_about_lists_every_setting_with_secrets_marked() -> None:
    settings = TapKlaviyo.config_jsonschema["properties"]
    assert settings["api_key"].get("secret") is True
    for name in (
        "api_url",
        "revision",
        "start_date",
        "end_date",
        "backfill_window_days",
        "events_lookback",
        "reread_last_days",
        "emit_activate_version_messages",
        "strict_settings",
        "page_sizes",
        "include_related",
        "max_retries",
        "max_retry_after_seconds",
        "rate_limit_percent",
    ):
        assert name in settings, name
        assert settings[name].get("description"), name


def test_an_unknown_setting_is_named_with_the_closest_known_one_before_any_request(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    run = run_tap(streams=["tags"], page_sise=10)
    assert run.returncode == 0
    warning = "page_sise: unknown setting, ignored; did you mean page_sizes?"
    assert warning in run.stderr, run.stderr[-1500:]
    assert run.stderr.index(warning) < run.stderr.index("Beginning")  # before the sync starts


def test_other_variants_setting_names_work_unchanged(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    config = dict(run_tap.base_config)
    config["auth_token"] = config.pop("api_key")  # MeltanoLabs' tap-klaviyo
    run = TapRunner(run_tap.module, run_tap.tap_class, run_tap.workdir, config)(streams=["tags"])
    assert run.returncode == 0, run.stderr[-1500:]
    assert run.records("tags")
    assert "unknown setting" not in run.stderr


def test_metrics_timestamps_are_date_times(run_tap: TapRunner) -> None:
    """Klaviyo's spec types them as bare strings; loaders must store instants, not text."""
    run = run_tap(streams=["metrics"])
    schema = next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "metrics")
    for field in ("created", "updated"):
        assert schema["schema"]["properties"][field].get("format") == "date-time", field
        for record in run.records("metrics"):
            assert record[field] is None or "T" in record[field]
