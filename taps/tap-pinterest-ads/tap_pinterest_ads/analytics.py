"""Daily analytics of campaigns, ad groups and ads, per ad account.

Pinterest restates a day's conversions for weeks after it (late attribution), and its
synchronous analytics reach back at most 90 days, 90 days per request, 250 ids per request.
So a run reads, per account, from ``analytics_lookback_days`` before its bookmark (the
restated days again: the loader upserts them by (id, date)), never further back than the
API allows (an older ``start_date`` or bookmark is clamped, with a warning), in windows of at
most 90 days, and for each window the ids of every entity of the account (every status:
archived campaigns spent too) in batches of 250.  Rows have the API's columns lower-cased.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_pinterest_ads.client import PinterestStream
from tap_pinterest_ads.streams import AdAccountsStream
from tapkit.engine import Plan
from tapkit.incremental import ApiFilter, Incremental, Op
from tapkit.keys import DateKey
from tapkit.rest import answered_at
from tapkit.timeformats import DATE
from tapkit.transport import Page, Request
from tapkit.windows import WindowPolicy

#: How far back the API reads: today and the 89 days before (a day's margin for clocks).
DAYS_BACK = 89
MAX_IDS = 250
DEFAULT_COLUMNS = (
    "SPEND_IN_MICRO_DOLLAR",
    "PAID_IMPRESSION",
    "TOTAL_IMPRESSION",
    "TOTAL_CLICKTHROUGH",
    "TOTAL_CONVERSIONS",
    "TOTAL_CHECKOUT",
    "TOTAL_CHECKOUT_VALUE_IN_MICRO_DOLLAR",
)
#: Columns that are whole numbers (counts, micro-currency); every other one is a number.
_INTEGER_SUFFIXES = ("_MICRO_DOLLAR", "IMPRESSION", "CLICKTHROUGH", "CONVERSIONS", "CHECKOUT")


def analytics_columns(config: Any) -> list[str]:
    return [str(c).upper() for c in (config.get("analytics_columns") or DEFAULT_COLUMNS)]


def column_type(column: str) -> dict[str, Any]:
    whole = column.endswith(_INTEGER_SUFFIXES) and not column.startswith(("CPC", "CPM", "ECPC"))
    return {"type": ["integer" if whole else "number", "null"]}


@dataclass(frozen=True)
class Lookup:
    ids: list[str]
    today: date


class AnalyticsStream(PinterestStream):
    """One row per entity and day it delivered, for the configured columns."""

    category = "ads_analytics"
    records_key = None
    parent_stream_type = AdAccountsStream
    partitioned_by = ("ad_account_id",)
    incremental = Incremental(
        "date",
        ApiFilter("start_date", Op.GTE, DATE, upper_field="end_date", upper_op=Op.LTE),
        windows=WindowPolicy(timedelta(days=90), api_maximum=timedelta(days=90)),
        key=DateKey(),
    )
    #: The entity list the ids come from, the parameter and answer column that carry them.
    entities_path: ClassVar[str]
    ids_param: ClassVar[str]
    id_column: ClassVar[str]

    def __init__(self, tap: Any, **kwargs: Any) -> None:
        super().__init__(tap, schema=self.analytics_schema(tap.config), **kwargs)

    @classmethod
    def analytics_schema(cls, config: Any) -> dict[str, Any]:
        key = cls.id_column.lower()
        properties: dict[str, Any] = {
            key: {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "ad_account_id": {"type": "string"},
        }
        for column in analytics_columns(config):
            properties[column.lower()] = column_type(column)
        return {"type": "object", "properties": properties}

    def reads_whole(self) -> bool:
        """Never: a read covers 90 days at most, so older rows in the loader must stay."""
        return False

    def plan(self, context: Context | None) -> Plan:
        """From ``analytics_lookback_days`` before the bookmark, not before the API's floor,
        to the API's today (or ``end_date``): days are the server's (its ``Date``), not this
        machine's."""
        plan = super().plan(context)
        today = self.lookup(context).today
        floor = today - timedelta(days=DAYS_BACK)
        start: date | None = plan.start
        if self.get_context_state(context).get("replication_key_value") not in (None, ""):
            assert start is not None
            start = start - timedelta(days=int(self.config.get("analytics_lookback_days", 30)))
        if start is None or start < floor:
            if start is not None:
                self.logger.warning(
                    "%s of ad account %s: Pinterest's analytics reach back 90 days; reading "
                    "from %s, not %s",
                    self.name,
                    (context or {}).get("ad_account_id"),
                    floor.isoformat(),
                    start.isoformat(),
                )
            start = floor
        end = today + timedelta(days=1)
        if self.config.get("end_date") and plan.end is not None:
            end = min(end, plan.end)  # end_date (exclusive), as the engine read it
        return replace(plan, start=start, end=end)

    def fetcher(self, context: Context | None) -> Callable[[Request], Iterable[Page]]:
        """Every window's fetch gets the account's entity ids, read once per run."""
        return partial(self.fetch_batches, ids=self.lookup(context).ids, context=context)

    def lookup(self, context: Context | None) -> Lookup:
        """The account's entity ids (every status in ``entity_statuses``) and the server's
        date when it listed them; read once per run of a partition."""
        assert context is not None
        account = context["ad_account_id"]
        memo: dict[str, Lookup] = self.__dict__.setdefault("_lookups", {})
        if account not in memo:
            path = self.entities_path.format(**context)
            params = {"entity_statuses": ",".join(self.entity_statuses), "order": "ASCENDING"}
            ids, answered = [], None
            for items, moment in self.list_pages(path, params, context):
                ids += [str(item["id"]) for item in items]
                answered = answered or moment
            today = (answered or datetime.now(UTC)).astimezone(UTC).date()
            memo[account] = Lookup(ids, today)
        return memo[account]

    def fetch_batches(
        self, request: Request, *, ids: list[str], context: Context | None
    ) -> Iterator[Page]:
        assert context is not None
        window = request.window
        last_day: date = window.end - timedelta(days=1)
        params = {
            "start_date": window.start.isoformat(),
            "end_date": last_day.isoformat(),
            "columns": ",".join(analytics_columns(self.config)),
            "granularity": "DAY",
        }
        batches = [ids[i : i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]
        if not batches or window.start > last_day:
            yield Page([], None)
            return
        account = context["ad_account_id"]
        for number, batch in enumerate(batches, 1):
            response = self.send(
                "GET",
                f"{self.url_base}{self.path.format(**context)}",
                context,
                params={**params, self.ids_param: ",".join(batch)},
            )
            rows = [_row(r, account) for r in self.document(response) or []]
            yield Page(rows, answered_at(response), more=number < len(batches))
            if request.first_page_only:
                return


def _row(raw: dict[str, Any], account: str) -> dict[str, Any]:
    row = {name.lower(): value for name, value in raw.items()}
    row["ad_account_id"] = account
    return row


class CampaignAnalyticsStream(AnalyticsStream):
    name = "campaign_analytics"
    path = "/ad_accounts/{ad_account_id}/campaigns/analytics"
    entities_path = "/ad_accounts/{ad_account_id}/campaigns"
    ids_param = "campaign_ids"
    id_column = "CAMPAIGN_ID"
    primary_keys = ("campaign_id", "date")


class AdGroupAnalyticsStream(AnalyticsStream):
    name = "ad_group_analytics"
    path = "/ad_accounts/{ad_account_id}/ad_groups/analytics"
    entities_path = "/ad_accounts/{ad_account_id}/ad_groups"
    ids_param = "ad_group_ids"
    id_column = "AD_GROUP_ID"
    primary_keys = ("ad_group_id", "date")


class AdAnalyticsStream(AnalyticsStream):
    name = "ad_analytics"
    path = "/ad_accounts/{ad_account_id}/ads/analytics"
    entities_path = "/ad_accounts/{ad_account_id}/ads"
    ids_param = "ad_ids"
    id_column = "AD_ID"
    primary_keys = ("ad_id", "date")
