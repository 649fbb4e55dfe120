"""The Pinterest emulator's control surface: rate limits per category and per day, the 429
fault, mutations (status changes, updated_time ties, new entities) and the CLI."""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Iterator

import pytest

from sandbox.cli import pinterest_command
from sandbox.core.clock import FakeClock
from sandbox.pinterest.client import PinterestClient
from sandbox.pinterest.sandbox import PinterestSandbox

NOW = "2026-12-01T00:00:00Z"
ACCOUNT = "549755885175"
CAMPAIGNS = f"/ad_accounts/{ACCOUNT}/campaigns"
EVERY_STATUS = "ACTIVE,PAUSED,ARCHIVED,DRAFT,DELETED_DRAFT"
ANALYTICS = {
    "start_date": "2026-11-01",
    "end_date": "2026-11-30",
    "columns": "SPEND_IN_MICRO_DOLLAR,TOTAL_CONVERSIONS",
    "granularity": "DAY",
}


@pytest.fixture
def sandbox() -> Iterator[PinterestSandbox]:
    with PinterestSandbox(
        seed=6, campaigns=12, now=NOW, frozen_clock=True, rate_limits=False
    ) as sb:
        yield sb


# -- rate limits ---------------------------------------------------------------------------


def test_limits_per_category_and_token() -> None:
    clock = FakeClock()
    with PinterestSandbox(seed=1, campaigns=3, now=NOW, rate_scale=0.01, monotonic=clock) as sb:
        client = PinterestClient(sb.base_url, "pina_one")
        for _ in range(10):  # ads_read: 1,000 a minute, scaled to 10
            assert client.get(CAMPAIGNS).status_code == 200
        refused = client.get(CAMPAIGNS)
        assert refused.status_code == 429
        assert refused.json()["code"] == 8
        assert refused.headers["x-envoy-ratelimited"] == "true"
        assert refused.headers["X-RateLimit-Reset"] == "60"
        campaign = sb.control.truth("campaign")[0]["id"]
        report = {**ANALYTICS, "campaign_ids": campaign}
        for _ in range(3):  # ads_analytics: 300 a minute, scaled to 3, counted apart
            assert client.get(f"{CAMPAIGNS}/analytics", report).status_code == 200
        assert client.get(f"{CAMPAIGNS}/analytics", report).status_code == 429
        assert PinterestClient(sb.base_url, "pina_two").get(CAMPAIGNS).status_code == 200
        clock.advance(45)
        assert client.get(CAMPAIGNS).headers["X-RateLimit-Reset"] == "15"
        clock.advance(15)
        answer = client.get(CAMPAIGNS)
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Remaining"] == "9"


def test_the_daily_limit_waits_hours() -> None:
    clock = FakeClock()
    with PinterestSandbox(seed=1, campaigns=3, now=NOW, daily_limit=5, monotonic=clock) as sb:
        client = PinterestClient(sb.base_url)
        for _ in range(5):
            assert client.get(CAMPAIGNS).status_code == 200
        clock.advance(120)  # the minute window is long gone, the day's is not
        refused = client.get(CAMPAIGNS)
        assert refused.status_code == 429
        assert int(refused.headers["X-RateLimit-Reset"]) == 86_400 - 120
        sb.control._call("POST", "daily-limit", {"daily_limit": None})
        assert client.get(CAMPAIGNS).status_code == 200


def test_the_429_fault_carries_pinterests_headers(sandbox: PinterestSandbox) -> None:
    sandbox.control.inject_fault("429", count=1, retry_after=30)
    response = PinterestClient(sandbox.base_url).get(CAMPAIGNS)
    assert response.status_code == 429
    assert response.json()["code"] == 8
    assert response.headers["X-RateLimit-Reset"] == "30"
    assert response.headers["x-envoy-ratelimited"] == "true"


# -- mutations -----------------------------------------------------------------------------


def test_updates_at_one_second_and_fresh_ones(sandbox: PinterestSandbox) -> None:
    control = sandbox.control
    tied = control.update("ad_group", count=30, at=1_795_000_000)
    rows = {g["id"]: g for g in control.truth("ad_group")}
    assert {rows[i]["updated_time"] for i in tied} == {1_795_000_000}
    fresh = control.update("ad_group", ids=tied[:3], name="Renamed 🎯")
    rows = {g["id"]: g for g in control.truth("ad_group")}
    stamps = [rows[i]["updated_time"] for i in fresh]
    assert len(set(stamps)) == 3
    assert min(stamps) > 1_795_000_000
    assert {rows[i]["name"] for i in fresh} == {"Renamed 🎯"}


def test_an_archived_campaign_keeps_its_spend_and_leaves_the_default_list(
    sandbox: PinterestSandbox,
) -> None:
    control = sandbox.control
    client = PinterestClient(sandbox.base_url)
    active = [c["id"] for c in client.pages(CAMPAIGNS) if c["status"] == "ACTIVE"]
    report = {**ANALYTICS, "campaign_ids": active[0]}
    before = client.ok(client.get(f"{CAMPAIGNS}/analytics", report))
    assert before
    [archived] = control.update("campaign", ids=[active[0]], status="ARCHIVED")
    assert archived not in [c["id"] for c in client.pages(CAMPAIGNS)]
    everything = client.pages(CAMPAIGNS, {"entity_statuses": EVERY_STATUS})
    row = next(c for c in everything if c["id"] == archived)
    assert (row["status"], row["summary_status"]) == ("ARCHIVED", "ARCHIVED")
    assert row["updated_time"] == sandbox.data.clock.now()
    control.advance_clock(10 * 86_400)
    after = client.ok(client.get(f"{CAMPAIGNS}/analytics", {**report, "end_date": "2026-12-10"}))
    spend = {r["DATE"]: r["SPEND_IN_MICRO_DOLLAR"] for r in after}
    # Archived a second into 1 December (the mutation's clock step): nothing after that day.
    assert max(spend) <= "2026-12-01"
    spend.pop("2026-12-01", None)
    assert spend == {r["DATE"]: r["SPEND_IN_MICRO_DOLLAR"] for r in before}


def test_created_entities_deliver_from_now(sandbox: PinterestSandbox) -> None:
    control = sandbox.control
    [campaign] = control.create("campaign", 1)
    [group] = control.mutate("ad_group", "create", count=1, campaign_id=campaign)["ids"]
    ads = control.mutate("ad", "create", count=2, ad_group_id=group)["ids"]
    rows = {a["id"]: a for a in control.truth("ad")}
    assert {rows[a]["status"] for a in ads} == {"ACTIVE"}
    assert int(ads[0]) > max(int(a) for a in rows if a not in ads)
    control.advance_clock(3 * 86_400)
    client = PinterestClient(sandbox.base_url)
    report = {**ANALYTICS, "start_date": "2026-11-25", "end_date": "2026-12-03"}
    rows = client.ok(client.get(f"{CAMPAIGNS}/analytics", {**report, "campaign_ids": campaign}))
    assert rows
    assert min(r["DATE"] for r in rows) >= "2026-12-01"


def test_bad_mutations_are_refused(sandbox: PinterestSandbox) -> None:
    from sandbox.core.control import SandboxControlError

    with pytest.raises(SandboxControlError, match="unknown status"):
        sandbox.control.update("campaign", count=1, status="RUNNING")
    with pytest.raises(SandboxControlError, match="no such campaign"):
        sandbox.control.update("campaign", ids=["1"])


# -- CLI -----------------------------------------------------------------------------------


def test_the_cli_prints_its_base_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = pinterest_command(port, 3, 5, rate_limits=False, frozen_clock=True)
    assert command[-2:] == ["--no-rate-limit", "--frozen-clock"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}/v5"
        assert PinterestClient(url).ok(PinterestClient(url).get("/ad_accounts"))["items"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
