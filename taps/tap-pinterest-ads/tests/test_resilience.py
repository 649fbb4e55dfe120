"""Expiring access tokens, rotated refresh tokens, 429s and daily limits; secrets kept out."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from sandbox.pinterest.sandbox import PinterestSandbox
from tapkit.testing import Run, TapRunner

TOKEN_PATH = "/v5/oauth/token"


def secrets(runner: TapRunner) -> list[str]:
    return [str(runner.base_config[k]) for k in ("client_secret", "refresh_token")]


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def _output(run: Run) -> str:
    return run.stderr + (run.stdout or "")


def test_an_access_token_expiring_mid_run_is_renewed_once(
    sandbox: PinterestSandbox, tmp_path: Path, make_runner: Any
) -> None:
    runner = make_runner(sandbox, tmp_path)
    done = threading.Event()

    def expire_when_running() -> None:
        while not done.is_set():
            if len(sandbox.control.requests()) >= 6:
                sandbox.control.expire_tokens()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=expire_when_running, daemon=True)
    watcher.start()
    try:
        run = runner(
            streams=["ad_accounts", "campaigns", "ad_groups", "ads"], max_concurrent_requests=1
        )
    finally:
        done.set()
        watcher.join()
    assert_ok(run)
    log = sandbox.control.requests()
    assert [r["path"] for r in log].count(TOKEN_PATH) == 2
    assert any(r["status"] == 401 for r in log), "the token never expired: the test proves nothing"
    assert set(run.ids("ads")) == {r["id"] for r in sandbox.control.truth("ad")}


def test_a_rotated_refresh_token_is_kept_for_the_next_run_and_never_printed(
    sandbox: PinterestSandbox, tmp_path: Path, make_runner: Any
) -> None:
    store = tmp_path / "private" / "pinterest-refresh-token.json"
    runner = make_runner(sandbox, tmp_path, refresh_token_file=str(store))
    first = runner(streams=["ad_accounts"])
    assert_ok(first)
    assert store.stat().st_mode & 0o077 == 0, "the token store is readable by others"
    seed, secret = runner.base_config["refresh_token"], runner.base_config["client_secret"]
    rotated = json.loads(store.read_text())["refresh_token"]
    assert rotated.startswith("pinr_")
    assert rotated != seed
    # the sandbox retired the seed when it rotated it: the second run must start from the file
    second = runner(streams=["ad_accounts"])
    assert_ok(second)
    again = json.loads(store.read_text())["refresh_token"]
    assert again != rotated
    tokens = [seed, rotated, again, secret]
    for run in (first, second):
        assert not [t for t in tokens if t in _output(run)], "a token or secret was printed"
        assert "Saved the rotated refresh token" in run.stderr


def test_without_a_token_store_a_rotation_is_warned_about(run_tap: TapRunner) -> None:
    run = run_tap(streams=["ad_accounts"], refresh_token_file=None)
    assert_ok(run)
    assert "refresh_token_file" in run.stderr
    assert not [s for s in secrets(run_tap) if s in _output(run)]


def test_without_a_token_store_the_next_run_is_refused_and_says_what_to_do(
    run_tap: TapRunner,
) -> None:
    assert_ok(run_tap(streams=["ad_accounts"], refresh_token_file=None))
    # the first run's refresh rotated the configured token, and Pinterest retired it
    second = run_tap(streams=["ad_accounts"], refresh_token_file=None)
    assert second.returncode != 0
    assert "the refresh token in the setting refresh_token was revoked or has expired" in (
        second.stderr
    )
    assert "Re-authorise the app and put the new refresh token in the setting" in second.stderr
    assert not [s for s in secrets(run_tap) if s in _output(second)]


def test_a_429_is_waited_out_as_x_ratelimit_reset_says(
    run_tap: TapRunner, sandbox: PinterestSandbox
) -> None:
    sandbox.control.inject_fault("429", count=2, retry_after=1, path="/v5/ad_accounts/")
    run = run_tap(streams=["ad_accounts", "campaigns"])
    assert_ok(run)
    throttled = [r for r in sandbox.control.requests() if r["status"] == 429]
    assert len(throttled) == 2
    assert run.stderr.count("throttled (429); waiting 1.0 s as the API asks") == 2
    assert set(run.ids("campaigns")) == {r["id"] for r in sandbox.control.truth("campaign")}


def test_a_daily_limit_wait_past_the_maximum_fails_clearly(
    run_tap: TapRunner, sandbox: PinterestSandbox
) -> None:
    sandbox.control.inject_fault("429", count=1, retry_after=67_150, path="/v5/ad_accounts")
    run = run_tap(streams=["ad_accounts"], max_retry_after_seconds=600)
    assert run.returncode == 1
    error = run.stderr.strip().splitlines()[-1]
    assert "67150 s" in error
    assert "max_retry_after_seconds" in error
    assert not [s for s in secrets(run_tap) if s in _output(run)]
