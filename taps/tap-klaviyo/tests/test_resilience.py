"""Limits, faults and failures: finish when the API asks to wait, stop clearly when it says no."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.klaviyo.sandbox import KlaviyoSandbox
from tapkit.testing import TapRunner

SMALL = ["profiles", "lists", "tags"]


def count_expected(sandbox: KlaviyoSandbox) -> dict[str, int]:
    return {
        s: len(sandbox.control.truth(k))
        for s, k in (("profiles", "profile"), ("lists", "list"), ("tags", "tag"))
    }


def test_default_rate_limits_give_no_429(run_tap: TapRunner, sandbox: KlaviyoSandbox) -> None:
    """Against Klaviyo's documented tiers (flows and tags: 3/s, 60/min) the tap paces itself."""
    sandbox.control.clear_requests()
    run = run_tap(streams=["flows", "flow_actions", "tags", "lists"])
    assert run.returncode == 0, run.stderr[-2000:]
    statuses = [entry["status"] for entry in sandbox.control.requests()]
    assert len(statuses) > 10
    assert 429 not in statuses


def test_a_429_storm_is_waited_out(run_tap: TapRunner, sandbox: KlaviyoSandbox) -> None:
    # By count, not seconds: a storm timed from now can end before a slow-starting tap asks.
    sandbox.control.inject_fault("429", count=6, retry_after=1)
    run = run_tap(streams=SMALL)
    assert run.returncode == 0, run.stderr[-2000:]
    log = sandbox.control.requests()
    assert any(e["status"] == 429 for e in log)
    for stream, expected in count_expected(sandbox).items():
        assert len(set(run.ids(stream))) == expected
    assert "as the API asks" in run.stderr


@pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "truncate", "malformed"])
def test_server_errors_and_broken_connections_are_retried(
    run_tap: TapRunner, sandbox: KlaviyoSandbox, kind: str
) -> None:
    sandbox.control.inject_fault(kind, count=3, path="/api/profiles")
    run = run_tap(streams=SMALL)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(set(run.ids("profiles"))) == count_expected(sandbox)["profiles"]
    assert sum(1 for e in sandbox.control.requests() if e["fault"] == kind) == 3


def test_hung_responses_time_out_and_are_retried(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    sandbox.control.inject_fault("hang", count=1, path="/api/tags", hang_seconds=30)
    run = run_tap(streams=["tags"], request_timeout_seconds=2)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(set(run.ids("tags"))) == count_expected(sandbox)["tags"]


def test_a_wrong_key_stops_at_once_naming_the_cause(
    run_tap: TapRunner, sandbox: KlaviyoSandbox, tmp_path: Path
) -> None:
    with KlaviyoSandbox(profiles=50, events=50, api_keys={"pk_the_right_one"}) as strict:
        runner = TapRunner(
            run_tap.module,
            run_tap.tap_class,
            tmp_path,
            {**run_tap.base_config, "api_url": strict.api_url},
        )
        run = runner(streams=SMALL)
        assert run.returncode != 0
        assert "401" in run.stderr
        assert "Check api_key" in run.stderr
        assert len(strict.control.requests()) == 1  # no retries of a 401


def test_a_refused_filter_stops_at_once_naming_the_cause(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    sandbox.control.inject_fault("400", count=1, path="/api/profiles")
    run = run_tap(streams=["profiles"])
    assert run.returncode != 0
    assert "Invalid filter provided" in run.stderr
    assert sum(1 for e in sandbox.control.requests() if e["path"] == "/api/profiles") == 1


def test_too_long_a_retry_after_fails_with_the_reason(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    sandbox.control.inject_fault("429", count=1, retry_after=3_600, path="/api/tags")
    run = run_tap(streams=["tags"], max_retry_after_seconds=60)
    assert run.returncode != 0
    assert "max_retry_after_seconds" in run.stderr


def test_the_key_never_appears_in_output_logs_or_state(
    run_tap: TapRunner, sandbox: KlaviyoSandbox
) -> None:
    key = run_tap.base_config["api_key"]
    sandbox.control.inject_fault("500", count=2)
    sandbox.control.inject_fault("429", count=2)
    run = run_tap(streams=SMALL)
    assert run.returncode == 0
    sandbox.control.inject_fault("400", count=1)
    failed = run_tap(streams=SMALL)
    for text in (run.stdout, run.stderr, json.dumps(run.state), failed.stdout, failed.stderr):
        assert key not in text
        assert key[3:] not in text
    assert key not in json.dumps(sandbox.control.requests())
