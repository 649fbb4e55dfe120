"""``tap-pinterest-ads``: settings, streams, and the checks run before any request."""

from __future__ import annotations

import re

from singer_sdk import typing as th

from tap_pinterest_ads.analytics import (
    AdAnalyticsStream,
    AdGroupAnalyticsStream,
    CampaignAnalyticsStream,
)
from tap_pinterest_ads.client import ENTITY_STATUSES, PinterestStream
from tap_pinterest_ads.streams import ENTITY_STREAMS
from tapkit.settings import common_settings
from tapkit.tap import PoliteTap

_COLUMN = re.compile(r"[A-Z0-9_]+")

STREAMS: tuple[type[PinterestStream], ...] = (
    *ENTITY_STREAMS,
    CampaignAnalyticsStream,
    AdGroupAnalyticsStream,
    AdAnalyticsStream,
)


class TapPinterestAds(PoliteTap):
    """Pinterest Ads ad accounts, campaigns, ad groups and ads of every status, and their
    daily analytics."""

    name = "tap-pinterest-ads"
    package_name = "tapworks-tap-pinterest-ads"
    stream_classes = STREAMS
    endpoint_prefix = "/v5"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "client_id",
            th.StringType,
            required=True,
            description="The app's id (developers.pinterest.com > My apps).",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            required=True,
            secret=True,
            description="The app's secret key.",
        ),
        th.Property(
            "refresh_token",
            th.StringType,
            required=True,
            secret=True,
            description="A refresh token from the OAuth flow with the ads:read scope (it lasts 60 "
            "days when Pinterest rotates it). Only the seed when refresh_token_file is set.",
        ),
        th.Property(
            "refresh_token_file",
            th.StringType,
            description="A file (mode 0600) where each rotated refresh token is kept, so the next "
            "run starts from it; Meltano cannot write a new token back into the config. Put a new "
            "refresh_token in the config after re-authorising and the tap starts from that instead.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            description="Send requests here instead of https://api.pinterest.com/v5 (a proxy, the sandbox).",
        ),
        th.Property(
            "ad_account_ids",
            th.ArrayType(th.StringType),
            description="Read only these ad accounts. Unset: every account the user can read.",
        ),
        th.Property(
            "entity_statuses",
            th.ArrayType(th.StringType),
            description="Statuses of campaigns, ad groups and ads to read (and whose analytics to "
            "read). Unset: all of " + ", ".join(ENTITY_STATUSES) + "; the API alone gives ACTIVE "
            "and PAUSED only, so spend of archived campaigns would be missing.",
        ),
        th.Property(
            "analytics_lookback_days",
            th.IntegerType,
            default=30,
            description="Days before the analytics bookmark read again each run, so conversions "
            "Pinterest attributes late replace the numbers loaded earlier.",
        ),
        th.Property(
            "analytics_columns",
            th.ArrayType(th.StringType),
            description="Analytics columns to read (Pinterest's names, e.g. SPEND_IN_MICRO_DOLLAR); "
            "they land lower-cased. Unset: spend, impressions, clicks, conversions and checkouts.",
        ),
        *common_settings(start_date_required=False, max_concurrent_requests=2),
    ).to_dict()

    def check_config(self) -> list[str]:
        errors = []
        url = self.config.get("api_url")
        if url and not str(url).startswith(("http://", "https://")):
            errors.append(f"api_url: {url!r} is not an http(s) URL")
        for status in self.config.get("entity_statuses") or []:
            if status not in ENTITY_STATUSES:
                errors.append(
                    f"entity_statuses: {status!r} is not a status; use some of {', '.join(ENTITY_STATUSES)}"
                )
        for column in self.config.get("analytics_columns") or []:
            if not _COLUMN.fullmatch(str(column).upper()):
                errors.append(f"analytics_columns: {column!r} is not a Pinterest column name")
        lookback = self.config.get("analytics_lookback_days")
        if lookback is not None and (isinstance(lookback, bool) or not 0 <= lookback <= 89):
            errors.append(
                f"analytics_lookback_days: must be 0 to 89 (the API reads 90 days back), got {lookback!r}"
            )
        for account in self.config.get("ad_account_ids") or []:
            if not str(account).isdigit():
                errors.append(f"ad_account_ids: {account!r} is not an ad account id (digits)")
        return errors
