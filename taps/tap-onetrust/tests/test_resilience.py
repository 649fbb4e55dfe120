"""Kills, expiring tokens, 429 storms, refused secrets and a tenant without the V4 APIs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.onetrust.sandbox import OneTrustSandbox
from tapkit.testing import Message, Run, TapRunner, upserted
from tapkit.timeformats import read_instant as instant

Queries = Callable[[], list[dict[str, list[str]]]]

TOKEN_PATH = "/api/access/v1/oauth/token"
REQUESTS_PATH = "/api/datasubject/v2/requestqueues/en-us"


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def _backfill_marks(messages: list[Message]) -> list[dict[str, Any]]:
    return [
        m["value"]["bookmarks"]["dsar_requests"]
        for m in messages
        if m["type"] == "STATE" and "dsar_requests" in m["value"].get("bookmarks", {})
    ]


def test_a_kill_mid_backfill_resumes_at_the_last_finished_month(
    run_tap: TapRunner, sandbox: OneTrustSandbox, dsar_queries: Queries
) -> None:
    def third_month_done(message: Message, messages: list[Message]) -> bool:
        return message["type"] == "STATE" and len(_backfill_marks(messages)) >= 3

    killed = run_tap.until(third_month_done, streams=["dsar_requests"])
    mark = _backfill_marks(killed.messages)[-1]
    assert "backfill_started_at" in mark, "the state does not say the load is unfinished"
    finished = instant(mark["replication_key_value"])
    assert (finished.day, finished.hour, finished.minute) == (1, 0, 0), "not at a month end"
    sandbox.control.clear_requests()
    resumed = run_tap(streams=["dsar_requests"], state=killed.messages[-1]["value"])
    assert_ok(resumed)
    months = sorted(q["createddate"][0] for q in dsar_queries() if q.get("page") == ["0"])
    assert months[0] == finished.strftime("%Y%m%d"), "resumed elsewhere than the next month"
    assert not any("modifieddate" in q for q in dsar_queries())
    final = resumed.state["bookmarks"]["dsar_requests"]
    assert "backfill_started_at" not in final
    # no later than when the first, killed run began its load
    assert instant(final["replication_key_value"]) <= instant(mark["backfill_started_at"])
    rows = upserted([killed, resumed], "dsar_requests", ("requestQueueId",))
    truth = {r["requestQueueId"] for r in sandbox.control.truth("request")}
    assert {k for (k,) in rows} == truth


def test_a_token_expiring_mid_run_is_renewed_once(
    sandbox: OneTrustSandbox, tmp_path: Path, make_runner: Any, dsar_queries: Queries
) -> None:
    """The sandbox's tokens expire when its clock passes their lifetime: a watcher moves it
    two hours on once the tap has read a few pages."""
    runner = make_runner(sandbox, tmp_path)
    done = threading.Event()

    def expire_when_running() -> None:
        while not done.is_set():
            if len(dsar_queries()) >= 5:
                sandbox.control.expire_tokens()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=expire_when_running, daemon=True)
    watcher.start()
    try:
        run = runner(streams=["dsar_requests"], page_size=20)
    finally:
        done.set()
        watcher.join()
    assert_ok(run)
    log = sandbox.control.requests()
    assert [r["path"] for r in log].count(TOKEN_PATH) == 2
    assert any(r["status"] == 401 for r in log), "the token never expired: the test proves nothing"
    truth = {r["requestQueueId"] for r in sandbox.control.truth("request")}
    assert set(run.ids("dsar_requests", "requestQueueId")) == truth


def test_a_429_storm_is_waited_out_as_retry_after_says(
    run_tap: TapRunner, sandbox: OneTrustSandbox
) -> None:
    sandbox.control.inject_fault("429", count=3, retry_after=2, path=REQUESTS_PATH)
    run = run_tap(streams=["dsar_requests"])
    assert_ok(run)
    throttled = [r for r in sandbox.control.requests() if r["status"] == 429]
    assert len(throttled) == 3
    assert run.stderr.count("throttled (429); waiting 2.0 s as the API asks") == 3
    truth = {r["requestQueueId"] for r in sandbox.control.truth("request")}
    assert set(run.ids("dsar_requests", "requestQueueId")) == truth


def test_a_refused_secret_names_the_setting_and_prints_no_secret(
    tmp_path: Path, make_runner: Any
) -> None:
    wrong = "oT-wrong-secret-0123456789"
    with OneTrustSandbox(seed=3, requests=20, clients={"tapworks-tests": "the-real-secret"}) as sb:
        runner = make_runner(sb, tmp_path, client_id="tapworks-tests", client_secret=wrong)
        run = runner(streams=["purposes"])
        log = sb.control.requests()
    assert run.returncode == 1
    assert "client_secret" in run.stderr
    assert wrong not in run.stderr + run.stdout
    assert "the-real-secret" not in run.stderr + run.stdout
    assert [r["path"] for r in log] == [TOKEN_PATH], "asked for data with no token"


def test_consent_windows_over_24_hours_fail_before_any_request(
    run_tap: TapRunner, sandbox: OneTrustSandbox
) -> None:
    run = run_tap(consent_window_hours=25)
    assert run.returncode == 1
    assert "consent_window_hours" in run.stderr
    assert sandbox.control.requests() == []


def test_a_tenant_without_the_v4_apis_skips_data_subjects_with_one_warning(
    tmp_path: Path, make_runner: Any
) -> None:
    with OneTrustSandbox(seed=3, requests=20, rate_limits=False, v4_enabled=False) as sb:
        run = make_runner(sb, tmp_path)(streams=["data_subjects", "purposes"])
        truth = sb.control.truth("purpose")
    assert_ok(run)
    warnings = [line for line in run.stderr.splitlines() if "V4" in line and "WARN" in line]
    assert len(warnings) == 1, run.stderr[-2000:]
    assert run.records("data_subjects") == []
    assert not run.state["bookmarks"].get("data_subjects"), "a bookmark moved past unread data"
    assert len(run.records("purposes")) == len(truth)


def test_a_deletion_while_paging_costs_no_other_request(tmp_path: Path, make_runner: Any) -> None:
    """Page numbers shift when a request on an earlier page is deleted: the next page would
    start one request late.  A watcher deletes the first request of the month being read once
    its second page is asked for (pages take 150 ms here, so it lands before the third).
    The last three months only: enough pages, fewer to wait for."""
    today = datetime.now(UTC)
    start = datetime(today.year, today.month, 1, tzinfo=UTC) - timedelta(days=62)
    start = start.replace(day=1)
    with OneTrustSandbox(seed=4, requests=1_000, rate_limits=False, latency_ms=150) as sb:
        done = threading.Event()
        deleted: list[str] = []

        def delete_on_page_one() -> None:
            while not done.is_set():
                for entry in sb.control.requests():
                    query = entry["query"]
                    if entry["path"] == REQUESTS_PATH and query.get("page") == ["1"]:
                        month = query["createddate"][0]
                        first = min(
                            (r for r in sb.control.truth("request") if _day(r) >= month),
                            key=lambda r: (r["dateCreated"], r["requestQueueId"]),
                        )
                        deleted.extend(
                            sb.control.delete("request", ids=[first["requestQueueRefId"]])
                        )
                        return
                time.sleep(0.02)

        watcher = threading.Thread(target=delete_on_page_one, daemon=True)
        watcher.start()
        try:
            run = make_runner(
                sb, tmp_path, max_concurrent_requests=1, start_date=start.isoformat()
            )(streams=["dsar_requests"], page_size=20)
        finally:
            done.set()
            watcher.join()
        truth = {
            r["requestQueueId"]
            for r in sb.control.truth("request")
            if instant(r["dateCreated"]) >= start
        }
        pages = [
            (e["query"]["createddate"][0], e["query"]["page"][0])
            for e in sb.control.requests()
            if e["path"] == REQUESTS_PATH
        ]
    assert_ok(run)
    assert deleted, "nothing was deleted: the test proves nothing"
    missing = truth - set(run.ids("dsar_requests", "requestQueueId"))
    assert not missing, "a request the deletion pushed back a page was skipped"
    assert len(pages) > len(set(pages)), "no page was read again"


def _day(request: dict[str, Any]) -> str:
    return str(request["dateCreated"][:10].replace("-", ""))
