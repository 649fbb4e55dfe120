"""Full and incremental syncs against the sandbox: every status, nothing lost, nothing invented."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.pinterest.sandbox import PinterestSandbox
from tapkit.testing import Run, TapRunner, upserted

#: stream -> sandbox kind
ENTITIES = {
    "ad_accounts": "ad_account",
    "campaigns": "campaign",
    "ad_groups": "ad_group",
    "ads": "ad",
}
ANALYTICS = "/analytics"


def assert_ok(run: Run) -> None:
    assert run.returncode == 0, run.stderr[-3000:]


def by_account(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for record in records:
        found.setdefault(str(record["ad_account_id"]), set()).add(str(record["id"]))
    return found


def test_a_full_sync_returns_every_entity_of_every_status_per_account(
    run_tap: TapRunner, sandbox: PinterestSandbox
) -> None:
    run = run_tap(streams=list(ENTITIES))
    assert_ok(run)
    accounts = {r["id"] for r in sandbox.control.truth("ad_account")}
    assert set(run.ids("ad_accounts")) == accounts
    assert len(accounts) >= 2
    for stream, kind in list(ENTITIES.items())[1:]:
        truth = sandbox.control.truth(kind)
        got = run.records(stream)
        assert len(got) == len({r["id"] for r in got}), f"{stream}: duplicates"
        assert by_account(got) == by_account(truth), stream
        assert {"ARCHIVED", "ACTIVE", "PAUSED"} <= {r["status"] for r in got}, stream
    served = {r["id"]: r for r in sandbox.control.truth("campaign")}
    for record in run.records("campaigns"):
        assert record == served[record["id"]]  # as the API sent it: unicode names, epoch ints
    # the API was asked for every status, and never for more than a page of 250
    lists = [r for r in sandbox.control.requests() if r["path"].endswith("/campaigns")]
    assert all(q["query"]["entity_statuses"] for q in lists)
    assert {int(q["query"]["page_size"][0]) for q in lists} == {250}


def test_an_entity_archived_between_runs_arrives_with_its_new_status(
    run_tap: TapRunner, sandbox: PinterestSandbox
) -> None:
    first = run_tap(streams=["ad_accounts", "campaigns"])
    assert_ok(first)
    active = [r for r in sandbox.control.truth("campaign") if r["status"] == "ACTIVE"]
    second_ago = int(datetime.now(UTC).timestamp()) - 5
    update = sandbox.control.update
    archived = {
        str(i)
        for i in update("campaign", ids=[active[0]["id"]], status="ARCHIVED", at=second_ago - 1)
    }
    # many campaigns updated in one second, the second the next bookmark may stop at
    tied = {str(i) for i in update("campaign", count=12, at=second_ago)}
    second = run_tap(streams=["ad_accounts", "campaigns"], state=first.state)
    assert_ok(second)
    got = {r["id"]: r for r in second.records("campaigns")}
    assert archived <= set(got)
    assert got[active[0]["id"]]["status"] == "ARCHIVED"
    assert tied <= set(got)
    assert len(got) < len(first.records("campaigns")), "the second run read everything again"
    rows = upserted([first, second], "campaigns", ("id",))
    truth = {r["id"]: r for r in sandbox.control.truth("campaign")}
    assert {k: v for (k,), v in rows.items()} == truth
    bookmark = second.state["bookmarks"]["campaigns"]["partitions"]
    assert {p["context"]["ad_account_id"] for p in bookmark} >= {
        r["ad_account_id"] for r in truth.values()
    }


def test_restated_analytics_replace_the_numbers_loaded_before(
    tmp_path: Path, make_runner: Any
) -> None:
    """Three days pass between the runs (the sandbox's clock, which its Date header and so
    the tap's days follow); late conversions are attributed meanwhile. The clock stands still
    otherwise: today's numbers would grow between the run and the truth read after it."""
    with PinterestSandbox(seed=6, campaigns=12, rate_limits=False, frozen_clock=True) as sandbox:
        run_tap = make_runner(sandbox, tmp_path)
        first = run_tap(streams=["ad_accounts", "campaign_analytics"])
        assert_ok(first)
        sandbox.control.advance_clock(3 * 86_400)
        second = run_tap(streams=["ad_accounts", "campaign_analytics"], state=first.state)
        assert_ok(second)
        truth_rows = sandbox.control.truth("campaign_analytics")
        answers = _analytics(sandbox)
        today = _today(sandbox)
    for run in (first, second):
        pairs = Counter((r["campaign_id"], r["date"]) for r in run.records("campaign_analytics"))
        assert max(pairs.values()) == 1, "an (id, date) row twice in one run"
    rows = upserted([first, second], "campaign_analytics", ("campaign_id", "date"))
    truth = {(r["CAMPAIGN_ID"], r["DATE"]): r for r in truth_rows}
    floor = (today - timedelta(days=89)).isoformat()
    # everything the API serves now, with its numbers (older rows the first run read stay)
    assert {k for k in truth if k[1] >= floor} <= set(rows)
    changed = 0
    for key, row in rows.items():
        if key[1] < floor:
            continue
        final = truth[key]
        assert row["spend_in_micro_dollar"] == final["SPEND_IN_MICRO_DOLLAR"], key
        assert row["total_conversions"] == final["TOTAL_CONVERSIONS"], key
        before = [
            r for r in first.records("campaign_analytics") if (r["campaign_id"], r["date"]) == key
        ]
        changed += bool(before and before[0]["total_conversions"] != row["total_conversions"])
    assert changed, "no number was restated: the test proves nothing"
    # the second run re-read the lookback, not all 90 days
    starts = [r["query"]["start_date"][0] for r in answers]
    assert min(starts[len(starts) // 2 :]) > floor


def test_spend_of_archived_campaigns_is_read_and_totals_match_the_account(
    run_tap: TapRunner, sandbox: PinterestSandbox
) -> None:
    run = run_tap(streams=["ad_accounts", "campaign_analytics", "ad_group_analytics"])
    assert_ok(run)
    statuses = {r["id"]: r["status"] for r in sandbox.control.truth("campaign")}
    today = _today(sandbox)
    floor = (today - timedelta(days=89)).isoformat()
    # today's spend still grows while the test reads it: the days before it are final
    done = [r for r in run.records("campaign_analytics") if r["date"] < today.isoformat()]
    spend: Counter[str] = Counter()
    for row in done:
        spend[statuses[row["campaign_id"]]] += row["spend_in_micro_dollar"] or 0
    assert spend["ARCHIVED"] > 0, "no archived campaign spent: the test proves nothing"
    truth = sum(
        r["SPEND_IN_MICRO_DOLLAR"]
        for r in sandbox.control.truth("campaign_analytics")
        if floor <= r["DATE"] < today.isoformat()
    )
    assert sum(spend.values()) == truth
    ad_groups = sum(
        r["spend_in_micro_dollar"] or 0
        for r in run.records("ad_group_analytics")
        if r["date"] < today.isoformat()
    )
    assert ad_groups == truth
    # ids went in batches of at most 250
    assert all(
        len(r["query"]["ad_group_ids"][0].split(",")) <= 250
        for r in _analytics(sandbox)
        if "ad_group_ids" in r["query"]
    )


def test_a_start_date_beyond_90_days_is_clamped_not_refused(
    run_tap: TapRunner, sandbox: PinterestSandbox
) -> None:
    start = datetime.now(UTC) - timedelta(days=200)
    run = run_tap(streams=["ad_accounts", "campaign_analytics"], start_date=start.isoformat())
    assert_ok(run)
    assert "reach back 90 days" in run.stderr
    answers = _analytics(sandbox)
    assert answers
    assert all(r["status"] == 200 for r in answers)
    assert (
        min(r["query"]["start_date"][0] for r in answers)
        == (_today(sandbox) - timedelta(days=89)).isoformat()
    )


def test_end_date_stops_analytics_before_it(run_tap: TapRunner, sandbox: PinterestSandbox) -> None:
    end = _today(sandbox) - timedelta(days=10)
    run = run_tap(streams=["ad_accounts", "campaign_analytics"], end_date=f"{end}T00:00:00Z")
    assert_ok(run)
    days = {r["date"] for r in run.records("campaign_analytics")}
    assert days, "no analytics read: the test proves nothing"
    assert max(days) == (end - timedelta(days=1)).isoformat()
    assert max(r["query"]["end_date"][0] for r in _analytics(sandbox)) < end.isoformat()


def _analytics(sandbox: PinterestSandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.control.requests() if r["path"].endswith(ANALYTICS)]


def _today(sandbox: PinterestSandbox) -> date:
    return datetime.fromisoformat(sandbox.control.now().replace("Z", "+00:00")).date()
