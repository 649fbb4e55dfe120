"""Pinterest Ads entity streams: each a declarative header over ``ListStream``.

No list endpoint filters by date, so campaigns, ad groups and ads are read whole every run,
with every status asked for (the API hides ARCHIVED ones unless asked), and the engine keeps
those whose ``updated_time`` (integer seconds) is at or after the account's bookmark:
entities tied at the bookmark are read again (and upserted), never skipped.  The first run
keeps every entity, whatever ``start_date`` says: spend totals need the old campaigns too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from singer_sdk.helpers.types import Context
from singer_sdk.schema.source import SchemaDirectory, StreamSchema

from tap_pinterest_ads import schemas
from tap_pinterest_ads.client import ListStream
from tapkit.engine import Plan
from tapkit.incremental import Incremental
from tapkit.keys import Instant
from tapkit.timeformats import EPOCH_SECONDS


class EntityStream(ListStream):
    schema = StreamSchema(SchemaDirectory(schemas))


class AdAccountsStream(EntityStream):
    """The ad accounts the authorising user can read (``ad_account_ids`` narrows them)."""

    name = "ad_accounts"
    path = "/ad_accounts"
    primary_keys = ("id",)

    def list_params(self, context: Context | None) -> dict[str, Any]:
        return {"include_shared_accounts": "true"}

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        wanted = self.config.get("ad_account_ids")
        if wanted and str(row.get("id")) not in {str(i) for i in wanted}:
            return None
        return super().post_process(row, context)

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        return {"ad_account_id": str(record["id"])}


class AccountEntityStream(EntityStream):
    """An ad account's campaigns, ad groups or ads, of the configured statuses."""

    parent_stream_type = AdAccountsStream
    partitioned_by = ("ad_account_id",)
    primary_keys = ("id",)
    incremental = Incremental("updated_time", key=Instant(EPOCH_SECONDS))

    def list_params(self, context: Context | None) -> dict[str, Any]:
        return {"entity_statuses": ",".join(self.entity_statuses), "order": "ASCENDING"}

    def plan(self, context: Context | None) -> Plan:
        """Without a bookmark, every entity (``start_date`` bounds analytics, not these)."""
        plan = super().plan(context)
        if self.get_context_state(context).get("replication_key_value") in (None, ""):
            plan = replace(plan, start=None)
        return plan


class CampaignsStream(AccountEntityStream):
    name = "campaigns"
    path = "/ad_accounts/{ad_account_id}/campaigns"


class AdGroupsStream(AccountEntityStream):
    name = "ad_groups"
    path = "/ad_accounts/{ad_account_id}/ad_groups"


class AdsStream(AccountEntityStream):
    name = "ads"
    path = "/ad_accounts/{ad_account_id}/ads"


ENTITY_STREAMS: tuple[type[EntityStream], ...] = (
    AdAccountsStream,
    CampaignsStream,
    AdGroupsStream,
    AdsStream,
)
