"""The OneTrust emulator's control surface: mutations, rate limits, faults, determinism, CLI."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest
import requests

from sandbox.cli import onetrust_command
from sandbox.core.clock import FakeClock
from sandbox.onetrust.client import OneTrustClient
from sandbox.onetrust.sandbox import OneTrustSandbox

NOW = "2026-12-01T00:00:00Z"
QUEUE = "/api/datasubject/v2/requestqueues/en-us"
OT_HEADERS = (
    "Retry-After",
    "ot-period",
    "ot-request-made",
    "ot-requests-allowed",
    "ot-ratelimit-event-id",
)


@pytest.fixture
def sandbox() -> Iterator[OneTrustSandbox]:
    with OneTrustSandbox(seed=9, requests=120, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


def by_ref(sb: OneTrustSandbox) -> dict[str, dict]:
    return {r["requestQueueRefId"]: r for r in sb.control.truth("request")}


# -- mutations -----------------------------------------------------------------------------


def test_updates_at_one_millisecond_and_fresh_ones(sandbox: OneTrustSandbox) -> None:
    control = sandbox.control
    tied = control.update("request", count=25, at="2026-11-30T12:00:00.123Z")
    rows = by_ref(sandbox)
    assert {rows[ref]["dateUpdated"] for ref in tied} == {"2026-11-30T12:00:00.123Z"}
    fresh = control.update("request", ids=tied[:3])
    stamps = [by_ref(sandbox)[ref]["dateUpdated"] for ref in fresh]
    assert len(set(stamps)) == 3
    assert min(stamps) > "2026-12-01T00:00:00"
    history = [h for h in control.truth("request_history") if h["requestQueueRefId"] == tied[0]]
    assert history[-1]["changeDateTime"].startswith(stamps[0][:-1])  # an audit entry per change


def test_complete_create_backdated_and_delete(sandbox: OneTrustSandbox) -> None:
    control = sandbox.control
    client = OneTrustClient(sandbox.base_url)
    [done] = control.update("request", count=1, complete=True)
    row = by_ref(sandbox)[done]
    assert row["status"] == "Completed"
    assert row["dateCompleted"] == row["dateUpdated"]
    assert row["resolution"]
    made = control.create("request", 2, created_at="2026-10-02T08:00:00Z")
    rows = by_ref(sandbox)
    assert {rows[ref]["dateCreated"] for ref in made} == {"2026-10-02T08:00:00.000Z"}
    assert all(rows[ref]["dateUpdated"] > "2026-12-01" for ref in made)  # arrived now
    october = client.pages(QUEUE, {"createddate": "20261001", "size": 500})
    assert set(made) <= {r["requestQueueRefId"] for r in october}
    gone = control.delete("request", ids=made[:1])
    listed = {r["requestQueueRefId"] for r in client.pages(QUEUE, {"size": 500})}
    assert gone[0] not in listed
    assert gone[0] not in by_ref(sandbox)
    assert client.get(f"/api/datasubject/v2/requestqueues/{gone[0]}/subtasks").status_code == 404


def test_a_subtask_change_moves_its_requests_date_updated(sandbox: OneTrustSandbox) -> None:
    control = sandbox.control
    subtask = next(s for s in control.truth("subtask") if s["subTaskStatus"] != "Complete")
    control.update(
        "subtask", ids=[subtask["subTaskId"]], complete=True, at="2026-12-01T00:05:00.5Z"
    )
    after = next(s for s in control.truth("subtask") if s["subTaskId"] == subtask["subTaskId"])
    assert after["subTaskStatus"] == "Complete"
    assert after["subTaskLastUpdatedDate"] == "2026-12-01T00:05:00.500Z"
    assert (
        by_ref(sandbox)[subtask["requestQueueRefId"]]["dateUpdated"] == "2026-12-01T00:05:00.500Z"
    )


def test_transactions_and_data_subjects_change(sandbox: OneTrustSandbox) -> None:
    control = sandbox.control
    made = control.create("transaction", 3, at="2026-12-01T00:10:00Z")
    rows = {t["transactionGuid"]: t for t in control.truth("transaction")}
    assert {rows[g]["consentCreationDate"] for g in made} == {"2026-12-01T00:10:00.000"}
    subjects = {s["identifier"]: s for s in control.truth("data_subject")}
    assert subjects[rows[made[0]]["identifier"]]["lastUpdatedDate"] >= "2026-12-01T00:10:00.000"
    [changed] = control.update("data_subject", count=1)
    subject = next(s for s in control.truth("data_subject") if s["id"] == changed)
    assert subject["lastUpdatedDate"] > "2026-12-01T00:10:00.000"


def test_bad_mutations_say_what_is_allowed(sandbox: OneTrustSandbox) -> None:
    for body in (
        {"type": "transaction", "action": "delete", "count": 1},
        {"type": "request", "action": "update", "ids": ["NOSUCHREF1"]},
        {"type": "lead", "action": "create"},
    ):
        response = requests.post(f"{sandbox.base_url}/_sandbox/mutations", json=body, timeout=10)
        assert response.status_code == 400


# -- limits and faults ---------------------------------------------------------------------


def test_the_per_minute_limit_answers_onetrusts_429() -> None:
    clock = FakeClock()
    with OneTrustSandbox(seed=1, requests=10, now=NOW, rate_scale=0.005, monotonic=clock) as sb:
        client = OneTrustClient(sb.base_url)  # its token request counts on its own endpoint
        statuses = [client.get(QUEUE).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = client.get(QUEUE)
        assert all(name in refused.headers for name in OT_HEADERS)
        assert refused.headers["ot-period"] == "MINUTE"
        assert refused.headers["ot-requests-allowed"] == "5"
        assert refused.headers["ot-request-made"] == "7"
        assert int(refused.headers["Retry-After"]) == 20  # the FakeClock starts at 1000 s
        assert client.get("/api/datasubject/v2/subtasks").status_code == 200  # per endpoint
        clock.advance(20)
        assert client.get(QUEUE).status_code == 200
        assert "ot-period" not in client.get(QUEUE).headers  # no budget headers on success


def test_the_hourly_account_limit() -> None:
    clock = FakeClock(start=0.0)
    # 40 an hour, 1 a minute per endpoint: a request a minute runs into the hourly cap.
    with OneTrustSandbox(seed=1, requests=10, now=NOW, rate_scale=0.0002, monotonic=clock) as sb:
        client = OneTrustClient(sb.base_url)
        client.fetch_token()
        statuses = []
        for _ in range(41):
            clock.advance(61)
            statuses.append(client.get(QUEUE))
        assert [r.status_code for r in statuses] == [200] * 39 + [429] * 2  # the token counted
        assert statuses[-1].headers["ot-period"] == "HOUR"
        assert statuses[-1].headers["ot-requests-allowed"] == "40"


def test_an_injected_429_carries_the_ot_headers(sandbox: OneTrustSandbox) -> None:
    client = OneTrustClient(sandbox.base_url)
    client.fetch_token()
    sandbox.control.inject_fault("429", count=2, path=QUEUE, retry_after=3)
    refused = client.get(QUEUE)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3"
    assert all(name in refused.headers for name in OT_HEADERS)
    assert client.get(QUEUE).status_code == 429
    assert client.get(QUEUE).status_code == 200
    log = sandbox.control.requests()
    assert [e["fault"] for e in log[-3:]] == ["429", "429", None]
    assert all(e["headers"].get("authorization") == "[redacted]" for e in log[-3:])


# -- determinism and the CLI ---------------------------------------------------------------


def test_the_same_seed_and_now_give_the_same_data() -> None:
    kinds = ("request", "subtask", "request_history", "transaction", "data_subject", "purpose")
    first = OneTrustSandbox(seed=4, requests=80, now=NOW).emulator
    again = OneTrustSandbox(seed=4, requests=80, now=NOW).emulator
    other = OneTrustSandbox(seed=5, requests=80, now=NOW).emulator
    for kind in kinds:
        assert first.truth(kind) == again.truth(kind), kind
    assert first.truth("request") != other.truth("request")


def test_cli_serves_and_prints_its_base_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = onetrust_command(port, 3, 40, rate_limits=False, frozen_clock=True)
    command += ["--client", "app:pw", "--token-ttl", "120", "--v4-disabled", "--now", NOW]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert line == f"http://127.0.0.1:{port}"
        client = OneTrustClient(line, client=("app", "pw"))
        assert client.fetch_token()["expires_in"] == 120
        assert client.get(QUEUE).json()["totalElements"] >= 39
        window = {"fromDate": "2026-11-24T00:00:00", "toDate": "2026-12-01T00:00:00"}
        assert client.get("/rest/api/consent/v4/datasubjects", window).status_code == 403
        with pytest.raises(AssertionError, match="401"):
            OneTrustClient(line, client=("app", "no")).fetch_token()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
