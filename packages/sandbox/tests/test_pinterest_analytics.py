"""The Pinterest emulator's analytics: parameter checks, sums that reconcile across levels,
archived spend, late conversions restated for ``restatement_days``, and the truth."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.pinterest.client import PinterestClient
from sandbox.pinterest.sandbox import PinterestSandbox

NOW = "2026-12-01T00:00:00Z"
ACCOUNT = "549755885175"
COLUMNS = "SPEND_IN_MICRO_DOLLAR,PAID_IMPRESSION,TOTAL_CLICKTHROUGH,TOTAL_CONVERSIONS,CTR"
COUNTS = ("SPEND_IN_MICRO_DOLLAR", "PAID_IMPRESSION", "TOTAL_CLICKTHROUGH", "TOTAL_CONVERSIONS")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[PinterestSandbox]:
    with PinterestSandbox(seed=8, now=NOW, frozen_clock=True, rate_limits=False) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: PinterestSandbox) -> PinterestClient:
    return PinterestClient(sandbox.base_url)


def ids_of(sandbox: PinterestSandbox, kind: str, account: str = ACCOUNT) -> list[str]:
    return [r["id"] for r in sandbox.control.truth(kind) if r["ad_account_id"] == account]


def report(
    client: PinterestClient, kind: str, ids: list[str], **params: Any
) -> list[dict[str, Any]]:
    """Every row for these ids, 250 per request."""
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 250):
        query = {
            "start_date": "2026-09-10",
            "end_date": "2026-11-30",
            f"{kind}_ids": ",".join(ids[start : start + 250]),
            "columns": COLUMNS,
            "granularity": "DAY",
        } | params
        rows += client.ok(client.get(f"/ad_accounts/{ACCOUNT}/{kind}s/analytics", query))
    return rows


def sums(rows: list[dict[str, Any]], key: str | None) -> dict[Any, list[int]]:
    totals: dict[Any, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for row in rows:
        slot = (row[key] if key else None, row.get("DATE"))
        totals[slot] = [a + row[c] for a, c in zip(totals[slot], COUNTS, strict=True)]
    return dict(totals)


def test_levels_reconcile_and_archived_campaigns_spent(
    client: PinterestClient, sandbox: PinterestSandbox
) -> None:
    ad_groups = ids_of(sandbox, "ad_group")
    ads = ids_of(sandbox, "ad")
    assert len(ad_groups) > 250
    assert len(ads) > 250
    campaign_rows = report(client, "campaign", ids_of(sandbox, "campaign"))
    group_rows = report(client, "ad_group", ad_groups)
    ad_rows = report(client, "ad", ads)
    assert sums(campaign_rows, None) == sums(group_rows, None) == sums(ad_rows, None)
    parent = {g["id"]: g["campaign_id"] for g in sandbox.control.truth("ad_group")}
    for row in group_rows:
        row["CAMPAIGN_ID"] = parent[row["AD_GROUP_ID"]]
    assert sums(group_rows, "CAMPAIGN_ID") == sums(campaign_rows, "CAMPAIGN_ID")
    assert all(r["SPEND_IN_MICRO_DOLLAR"] > 0 or r["PAID_IMPRESSION"] > 0 for r in ad_rows)
    assert all(r["CTR"] == r["TOTAL_CLICKTHROUGH"] / r["PAID_IMPRESSION"] for r in campaign_rows)
    status = {c["id"]: c["status"] for c in sandbox.control.truth("campaign")}
    archived_spend = sum(
        r["SPEND_IN_MICRO_DOLLAR"] for r in campaign_rows if status[r["CAMPAIGN_ID"]] == "ARCHIVED"
    )
    assert archived_spend > 0
    assert not [r for r in campaign_rows if status[r["CAMPAIGN_ID"]] in ("DRAFT", "DELETED_DRAFT")]


def test_total_is_the_sum_of_days(client: PinterestClient, sandbox: PinterestSandbox) -> None:
    campaigns = ids_of(sandbox, "campaign")
    days = sums(report(client, "campaign", campaigns), "CAMPAIGN_ID")
    totals = report(client, "campaign", campaigns, granularity="TOTAL")
    assert all("DATE" not in row for row in totals)
    by_campaign: dict[str, list[int]] = defaultdict(lambda: [0] * len(COUNTS))
    for (campaign, _), values in days.items():
        by_campaign[campaign] = [a + b for a, b in zip(by_campaign[campaign], values, strict=True)]
    assert {r["CAMPAIGN_ID"]: [r[c] for c in COUNTS] for r in totals} == dict(by_campaign)


def test_the_truth_is_what_the_api_answers(
    client: PinterestClient, sandbox: PinterestSandbox
) -> None:
    truth = sandbox.control.truth(
        "ad_group_analytics", start="2026-11-01", end="2026-11-30", columns=COLUMNS.split(",")
    )
    groups = ids_of(sandbox, "ad_group")
    mine = [r for r in truth if r["AD_GROUP_ID"] in set(groups)]
    served = report(client, "ad_group", groups, start_date="2026-11-01")
    assert served
    assert len(truth) > len(mine)
    assert mine == served


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start_date": "2026-09-01"}, "start_date"),  # 91 days back
        ({"start_date": "2026-09-02", "end_date": "2026-12-02"}, "end_date"),  # 91-day span
        ({"start_date": "2026-11-10", "end_date": "2026-11-09"}, "end_date"),
        ({"start_date": "11/01/2026"}, "start_date"),
        ({"columns": "SPEND_IN_MICRO_DOLLAR,SPEND_IN_YEN"}, "columns"),
        ({"columns": ""}, "columns"),
        ({"granularity": "HOUR"}, "not supported by the sandbox"),
        ({"granularity": "YEARLY"}, "granularity"),
        ({"campaign_ids": ",".join(str(10**11 + n) for n in range(251))}, "campaign_ids"),
        ({"campaign_ids": ""}, "campaign_ids"),
        ({"click_window_days": "3"}, "click_window_days"),
    ],
)
def test_bad_analytics_parameters(client: PinterestClient, params: dict, named: str) -> None:
    query = {
        "start_date": "2026-11-01",
        "end_date": "2026-11-30",
        "campaign_ids": "626700000888",
        "columns": COLUMNS,
        "granularity": "DAY",
    } | params
    response = client.get(f"/ad_accounts/{ACCOUNT}/campaigns/analytics", query)
    assert response.status_code == 400
    assert response.json()["code"] == 1
    assert named in response.json()["message"]


def test_the_90_day_limits_allow_their_edges(
    client: PinterestClient, sandbox: PinterestSandbox
) -> None:
    campaigns = ids_of(sandbox, "campaign")[:5]
    rows = report(client, "campaign", campaigns, start_date="2026-09-02", end_date="2026-12-01")
    assert rows


def test_late_conversions_are_restated_then_final() -> None:
    with PinterestSandbox(
        seed=8, campaigns=6, now=NOW, frozen_clock=True, restatement_days=7
    ) as sb:
        client = PinterestClient(sb.base_url)
        campaigns = ids_of(sb, "campaign")

        def read() -> dict[tuple[str, str], dict[str, Any]]:
            rows = report(client, "campaign", campaigns, start_date="2026-11-15")
            return {(r["CAMPAIGN_ID"], r["DATE"]): r for r in rows}

        first = read()
        sb.control.advance_clock(3 * 86_400)
        later = read()
        sb.control.advance_clock(30 * 86_400)
        final = read()
        sb.control.advance_clock(5 * 86_400)
        still = read()
    recent = [k for k in first if k[1] >= "2026-11-28"]
    old = [k for k in first if k[1] <= "2026-11-20"]
    assert recent
    assert old
    assert any(later[k]["TOTAL_CONVERSIONS"] > first[k]["TOTAL_CONVERSIONS"] for k in recent)
    assert all(later[k]["TOTAL_CONVERSIONS"] >= first[k]["TOTAL_CONVERSIONS"] for k in recent)
    for key in old:  # past the restatement window: nothing moves
        assert later[key] == first[key]
    for key in recent:  # spend and impressions were final when the day ended
        assert later[key]["SPEND_IN_MICRO_DOLLAR"] == first[key]["SPEND_IN_MICRO_DOLLAR"]
        assert final[key]["PAID_IMPRESSION"] == first[key]["PAID_IMPRESSION"]
    shared = [k for k in final if k in still]
    assert shared
    assert all(still[k] == final[k] for k in shared)


def test_the_same_seed_and_now_give_the_same_numbers() -> None:
    answers = []
    for _ in range(2):
        with PinterestSandbox(seed=13, campaigns=5, now=NOW, frozen_clock=True) as sb:
            answers.append(
                (
                    sb.control.truth("campaign"),
                    sb.control.truth("ad"),
                    sb.control.truth("ad_analytics", start="2026-10-01", end="2026-11-30"),
                )
            )
    assert answers[0] == answers[1]
    with PinterestSandbox(seed=14, campaigns=5, now=NOW, frozen_clock=True) as other:
        assert other.control.truth("campaign") != answers[0][0]
