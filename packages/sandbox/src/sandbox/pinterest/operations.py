"""The operations the Pinterest sandbox serves (paths as the spec writes them, under ``/v5``),
with each one's rate-limit category (the spec's ``x-ratelimit-category``).

The trim script copies exactly these into ``openapi/``; the contract tests validate every answer
against that copy.
"""

from __future__ import annotations

PREFIX = "/v5"
SPEC_VERSION = "5.23.0"

TOKEN = "/oauth/token"
AD_ACCOUNTS = "/ad_accounts"
CAMPAIGNS = "/ad_accounts/{ad_account_id}/campaigns"
AD_GROUPS = "/ad_accounts/{ad_account_id}/ad_groups"
ADS = "/ad_accounts/{ad_account_id}/ads"
CAMPAIGN_ANALYTICS = "/ad_accounts/{ad_account_id}/campaigns/analytics"
AD_GROUP_ANALYTICS = "/ad_accounts/{ad_account_id}/ad_groups/analytics"
AD_ANALYTICS = "/ad_accounts/{ad_account_id}/ads/analytics"

#: (method, path) -> rate-limit category; the token endpoint is not limited by the sandbox.
SERVED: dict[tuple[str, str], str] = {
    ("post", TOKEN): "org_read",
    ("get", AD_ACCOUNTS): "ads_read",
    ("get", CAMPAIGNS): "ads_read",
    ("get", AD_GROUPS): "ads_read",
    ("get", ADS): "ads_read",
    ("get", CAMPAIGN_ANALYTICS): "ads_analytics",
    ("get", AD_GROUP_ANALYTICS): "ads_analytics",
    ("get", AD_ANALYTICS): "ads_analytics",
}
