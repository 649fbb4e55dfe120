"""Every fault kind, as a client sees it, and the request log."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox.core.clock import FakeClock
from sandbox.klaviyo.client import SANDBOX_KEY as API_KEY
from sandbox.klaviyo.client import KlaviyoClient as Client
from sandbox.klaviyo.sandbox import KlaviyoSandbox


def test_status_faults_fire_for_the_next_count_requests(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    for kind, content_type in (
        ("400", "application/vnd.api+json"),
        ("500", "application/vnd.api+json"),
        ("503", "application/vnd.api+json"),
        ("502", "text/html"),
    ):
        sandbox.control.inject_fault(kind, count=2)
        first, second, third = (fresh_client.get("/api/metrics") for _ in range(3))
        assert (first.status_code, second.status_code, third.status_code) == (
            int(kind),
            int(kind),
            200,
        )
        assert first.headers["Content-Type"] == content_type


def test_429_storm_with_retry_after(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    sandbox.control.inject_fault("429", seconds=1.0)
    response = fresh_client.get("/api/profiles")
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert wait == 1
    assert fresh_client.get("/api/profiles").status_code == 429
    time.sleep(wait)
    assert fresh_client.get("/api/profiles").status_code == 200


def test_slow_responses_arrive_late_but_whole(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    sandbox.control.inject_fault("slow", count=1, delay_seconds=0.4)
    started = time.monotonic()
    response = fresh_client.get("/api/lists")
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    assert response.json()["data"]


def test_hung_responses_time_out(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    sandbox.control.inject_fault("hang", count=1, hang_seconds=3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        fresh_client.session.get(fresh_client.api_url + "/lists", timeout=0.3)
    assert fresh_client.get("/api/lists").status_code == 200


def test_dropped_connections(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    sandbox.control.inject_fault("drop", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        fresh_client.get("/api/lists")
    assert fresh_client.get("/api/lists").status_code == 200


def test_truncated_bodies(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    sandbox.control.inject_fault("truncate", count=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        fresh_client.get("/api/profiles").content  # noqa: B018 - reading the body is the point
    assert fresh_client.get("/api/profiles").status_code == 200


def test_malformed_json(sandbox: KlaviyoSandbox, fresh_client: Client) -> None:
    sandbox.control.inject_fault("malformed", count=1)
    response = fresh_client.get("/api/profiles")
    assert response.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_fraction_and_path_are_deterministic() -> None:
    outcomes = []
    for _ in range(2):
        with KlaviyoSandbox(seed=9, profiles=50, events=50, rate_limits=False) as sandbox:
            client = Client(sandbox.api_url)
            sandbox.control.inject_fault("503", fraction=0.5, path="/api/lists")
            lists = [client.get("/api/lists").status_code for _ in range(40)]
            others = [client.get("/api/tags").status_code for _ in range(10)]
            outcomes.append(lists)
            assert set(others) == {200}
            assert 8 <= lists.count(503) <= 32
    assert outcomes[0] == outcomes[1]


def test_faults_expire_by_time() -> None:
    clock = FakeClock()
    with KlaviyoSandbox(profiles=50, events=50, rate_limits=False, monotonic=clock) as sandbox:
        client = Client(sandbox.api_url)
        sandbox.control.inject_fault("500", seconds=10)
        assert client.get("/api/tags").status_code == 500
        assert len(sandbox.control.faults()) == 1
        clock.advance(10)
        assert client.get("/api/tags").status_code == 200
        assert sandbox.control.faults() == []


def test_bad_fault_specs_are_refused(sandbox: KlaviyoSandbox) -> None:
    from sandbox.core.control import SandboxControlError

    for spec in (
        {"kind": "explode", "count": 1},
        {"kind": "500"},
        {"kind": "500", "fraction": 2},
        {"kind": "500", "count": 1, "colour": "red"},
    ):
        with pytest.raises(SandboxControlError, match="400"):
            sandbox.control._call("POST", "faults", spec)


def test_request_log_records_what_was_sent_without_the_secret(
    sandbox: KlaviyoSandbox, fresh_client: Client
) -> None:
    sandbox.control.clear_requests()
    fresh_client.get(
        "/api/events", {"filter": "greater-than(datetime,2024-01-01T00:00:00Z)", "page[size]": "5"}
    )
    sandbox.control.inject_fault("503", count=1)
    fresh_client.get("/api/tags")
    log = sandbox.control.requests()
    assert [entry["path"] for entry in log] == ["/api/events", "/api/tags"]
    first = log[0]
    assert first["method"] == "GET"
    assert first["query"]["filter"] == ["greater-than(datetime,2024-01-01T00:00:00Z)"]
    assert first["status"] == 200
    assert first["records"] == 5
    assert first["headers"]["revision"] == "2026-07-15"
    assert first["headers"]["authorization"] == "[redacted]"
    assert log[1]["fault"] == "503"
    assert log[1]["status"] == 503
    assert API_KEY not in json.dumps(log)
    assert sandbox.control.requests(since=first["seq"])[0]["path"] == "/api/tags"
