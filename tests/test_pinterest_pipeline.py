"""The Pinterest Ads job and the marketing job end to end: spend per campaign (archived ones
included) and ROAS per day, computed here in Python from the two sandboxes' `truth()`, found in
the marts row by row; and conversions restated after a second run, equal in Postgres to the
sandbox's final numbers."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.testing import Project
from sandbox.core.clock import format_instant, start_of_today
from sandbox.pinterest.sandbox import PinterestSandbox

ROOT = Path(__file__).resolve().parents[1]
RAW = "tap_pinterest_ads"
MARTS = "analytics_marts"
SOURCES = ROOT / "transform" / "models" / "staging" / "pinterest" / "_pinterest_ads__sources.yml"
MICRO = Decimal(1_000_000)
DAY = 86_400
#: How far back the tap reads analytics: the API's today and the 89 days before.
DAYS_BACK = 89
LEVELS = ("campaign", "ad_group", "ad")
METRICS = ("SPEND_IN_MICRO_DOLLAR", "TOTAL_CLICKTHROUGH", "TOTAL_CONVERSIONS", "TOTAL_CHECKOUT")
_copies = itertools.count(1)


@dataclass
class Pipeline:
    """A warehouse after `pinterest-to-postgres` and `marketing-marts`, the jobs' output, and
    what the sandboxes held then (the Pinterest clock moves in a later test)."""

    project: Project
    outputs: dict[str, str]
    today: date
    truth: dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def pipeline(built_shop_project: Project) -> Iterator[Pipeline]:
    """A copy of the session's Klaviyo- and Shopify-loaded warehouse, then the two jobs. The
    Pinterest clock is frozen at midnight, so no day is half delivered while the test reads."""
    now = format_instant(start_of_today())
    # the dev config's client; any refresh token: the tap may start from a rotated one in the
    # project's token file, which an earlier sandbox issued
    options = {"clients": {"sandbox-client": "sandbox_not_a_secret"}, "rate_limits": False}
    with PinterestSandbox(seed=17, campaigns=24, now=now, frozen_clock=True, **options) as pins:
        project = built_shop_project.copy(f"pinterest_{next(_copies)}", pinterest=pins)
        outputs = {}
        for job in ("pinterest-to-postgres", "marketing-marts"):
            done = project.meltano("run", job)
            assert done.returncode == 0, done.output[-4000:]
            outputs[job] = done.output
        today = datetime.fromisoformat(pins.control.now()).astimezone(UTC).date()
        truth = {kind: pins.control.truth(kind) for kind in ("ad_account", "campaign", "ad")}
        for level in LEVELS:
            truth[f"{level}_analytics"] = analytics_truth(pins, level, today, today)
        yield Pipeline(project, outputs, today, truth)


def analytics_truth(
    pins: PinterestSandbox, level: str, first_today: date, today: date
) -> list[dict[str, Any]]:
    """The DAY rows from the first run's first day read to ``today``, as the API answers now."""
    start = (first_today - timedelta(days=DAYS_BACK)).isoformat()
    return pins.control.truth(f"{level}_analytics", start=start, end=today.isoformat())


def dbt_summaries(output: str, source: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """The freshness results of ``source``'s tables, and each build's (WARN, ERROR) counts."""
    found = re.findall(rf"\d+ of \d+ (\w+) freshness of {source}\.\w+", output)
    summaries = re.findall(r"Done\. PASS=\d+ WARN=(\d+) ERROR=(\d+)", output)
    return [result for result in found if result != "START"], summaries


def shop_days(project: Project) -> dict[str, tuple[int, Decimal]]:
    """UTC day -> (orders not cancelled, net revenue) of the shop's non-test orders."""
    assert project.shopify is not None
    shop = project.shopify.control
    refunds: Counter[int] = Counter()
    for transaction in shop.truth("transaction"):
        if transaction["kind"] == "refund" and transaction["status"] == "success":
            refunds[transaction["order_id"]] += int(Decimal(transaction["amount"]) * 100)
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in shop.truth("order"):
        if order["test"]:
            continue
        day = datetime.fromisoformat(order["created_at"]).astimezone(UTC).date().isoformat()
        cancelled = order["status"] == "cancelled"
        days[day][0] += not cancelled
        if not cancelled:
            days[day][1] += int(Decimal(order["total_price"]) * 100) - refunds[order["id"]]
    return {day: (orders, Decimal(cents) / 100) for day, (orders, cents) in days.items()}


def marketing_from_the_sandboxes(pipeline: Pipeline, currency: str) -> dict[str, tuple[Any, ...]]:
    """UTC day -> spend, other-currency accounts, orders, revenue and ROAS, as the mart must say."""
    currency_of = {a["id"]: a["currency"] for a in pipeline.truth["ad_account"]}
    account_of = {a["id"]: a["ad_account_id"] for a in pipeline.truth["ad"]}
    spend: Counter[str] = Counter()
    others: dict[str, set[str]] = defaultdict(set)
    for row in pipeline.truth["ad_analytics"]:
        account = account_of[row["AD_ID"]]
        if currency_of[account] == currency:
            spend[row["DATE"]] += row["SPEND_IN_MICRO_DOLLAR"]
        else:
            others[row["DATE"]].add(account)
    shop = shop_days(pipeline.project)
    expected = {}
    for day in {row["DATE"] for row in pipeline.truth["ad_analytics"]} | set(shop):
        paid = Decimal(spend[day]) / MICRO
        orders, revenue = shop.get(day, (0, Decimal(0)))
        roas = (revenue / paid).quantize(Decimal("0.0001"), ROUND_HALF_UP) if paid else None
        expected[day] = (paid, len(others[day]), orders, revenue, roas)
    return expected


def test_both_jobs_load_and_build_without_errors_or_warnings(pipeline: Pipeline) -> None:
    pinterest, pinterest_builds = dbt_summaries(pipeline.outputs["pinterest-to-postgres"], RAW)
    assert pinterest, pipeline.outputs["pinterest-to-postgres"][-4000:]
    assert set(pinterest) == {"PASS"}, pinterest
    assert pinterest_builds == [("0", "0")], pipeline.outputs["pinterest-to-postgres"][-4000:]
    marketing = pipeline.outputs["marketing-marts"]
    shop_freshness, marketing_builds = dbt_summaries(marketing, "tap_shopify")
    assert shop_freshness, marketing[-4000:]
    assert set(shop_freshness) == {"PASS"}, shop_freshness
    assert sorted(dbt_summaries(marketing, RAW)[0]) == sorted(pinterest)
    assert marketing_builds == [("0", "0")], marketing[-4000:]
    # each job builds its own models: the marketing job only the mart that needs both sources
    built = {
        job: set(re.findall(r"OK created sql \w+ model \w+\.(\w+)", output))
        for job, output in pipeline.outputs.items()
    }
    assert built["marketing-marts"] == {"fct_marketing_daily"}
    assert {"dim_pinterest_campaigns", "fct_pinterest_ad_performance_daily"} <= built[
        "pinterest-to-postgres"
    ]
    assert all(
        m.startswith(("stg_pinterest_ads__", "dim_pinterest_", "fct_pinterest_"))
        for m in built["pinterest-to-postgres"]
    ), built


def test_spend_per_campaign_archived_ones_included_is_the_sandboxs(pipeline: Pipeline) -> None:
    truth = pipeline.truth
    spend: Counter[str] = Counter()
    for row in truth["campaign_analytics"]:
        spend[row["CAMPAIGN_ID"]] += row["SPEND_IN_MICRO_DOLLAR"]
    expected = {c["id"]: (c["status"], Decimal(spend[c["id"]]) / MICRO) for c in truth["campaign"]}
    rows = pipeline.project.query(
        f"select campaign_id, status, spend from {MARTS}.dim_pinterest_campaigns"
    )
    assert {campaign: (status, spent) for campaign, status, spent in rows} == expected
    archived = [s for status, s in expected.values() if status == "ARCHIVED"]
    assert any(archived), "archived campaigns with spend must be there to count"
    # the daily ad fact, summed per campaign, gives the ads' own numbers
    campaign_of = {a["id"]: a["campaign_id"] for a in truth["ad"]}
    by_ad: Counter[str] = Counter()
    for row in truth["ad_analytics"]:
        by_ad[campaign_of[row["AD_ID"]]] += row["SPEND_IN_MICRO_DOLLAR"]
    facts = pipeline.project.query(
        f"select campaign_id, sum(spend), count(*) from {MARTS}.fct_pinterest_ad_performance_daily"
        " group by 1"
    )
    assert {c: spent for c, spent, _ in facts} == {c: Decimal(m) / MICRO for c, m in by_ad.items()}
    assert sum(n for *_, n in facts) == len(truth["ad_analytics"])


def test_roas_per_day_is_shop_revenue_over_pinterest_spend(pipeline: Pipeline) -> None:
    shop = pipeline.project.shopify
    assert shop is not None
    currencies = {order["currency"] for order in shop.control.truth("order")}
    assert len(currencies) == 1, "a shop has one currency"
    (shop_currency,) = currencies
    expected = marketing_from_the_sandboxes(pipeline, shop_currency)
    rows = pipeline.project.query(
        "select report_date::text, currency, pinterest_spend, other_currency_ad_account_count,"
        f" shopify_order_count, shopify_revenue, roas from {MARTS}.fct_marketing_daily"
    )
    assert {currency for _, currency, *_ in rows} == {shop_currency}
    assert {day: tuple(values) for day, _, *values in rows} == expected
    # the cases are there to be counted: ROAS on days with both, an account in another currency
    assert any(roas for *_, roas in expected.values())
    assert any(others for _, others, *_ in expected.values())


def test_the_source_declares_exactly_the_columns_the_loader_creates(pipeline: Pipeline) -> None:
    """source_or_empty stands in the declared columns while a table is not loaded: they must be
    the loader's, in its order and types."""
    (source,) = yaml.safe_load(SOURCES.read_text())["sources"]
    for table in source["tables"]:
        declared = [(c["name"], c["data_type"]) for c in table["columns"]]
        loaded = pipeline.project.query(
            "select column_name, case when udt_name = 'int8' then 'bigint' "
            "when udt_name = 'bool' then 'boolean' else udt_name end "
            "from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position",
            RAW,
            table["name"],
        )
        assert declared == [tuple(row) for row in loaded], table["name"]


def test_restated_numbers_equal_the_sandboxs_final_ones_after_a_second_run(
    pipeline: Pipeline,
) -> None:
    """Three days pass (the sandbox's clock, which the tap's days follow): late conversions of
    the days before are attributed meanwhile. The next run (state from the first, on a copy of
    the warehouse) re-reads the lookback; every raw analytics table then equals the sandbox's
    numbers for every (id, date), each once."""
    first = pipeline.project
    pins = first.pinterest
    assert pins is not None
    project = first.copy(f"pinterest_{next(_copies)}")
    pins.control.advance_clock(3 * DAY)
    today = pipeline.today + timedelta(days=3)
    second = project.meltano("run", "pinterest-to-postgres")
    assert second.returncode == 0, second.output[-4000:]
    assert dbt_summaries(second.output, RAW)[1] == [("0", "0")], second.output[-4000:]
    restated = 0
    for level in LEVELS:
        key = f"{level}_id"
        final = {
            (r[key.upper()], r["DATE"]): tuple(r[m] for m in METRICS)
            for r in analytics_truth(pins, level, pipeline.today, today)
        }
        rows = project.query(
            f"select {key}, date::text, {', '.join(m.lower() for m in METRICS)}"
            f" from {RAW}.{level}_analytics"
        )
        loaded = {(entity, day): tuple(numbers) for entity, day, *numbers in rows}
        assert len(rows) == len(loaded), f"{level}_analytics holds an (id, date) twice"
        assert project.duplicate_keys(f"{level}_analytics", f"{key}, date", RAW) == 0
        assert loaded == final, level
        before = {(r[key.upper()], r["DATE"]): r for r in pipeline.truth[f"{level}_analytics"]}
        restated += sum(
            before[k]["TOTAL_CONVERSIONS"] != final[k][2] for k in before.keys() & final.keys()
        )
        assert max(day for _, day in loaded) == (today - timedelta(days=1)).isoformat()
    assert restated, "no number was restated: the test proves nothing"
