"""``tap-onetrust``: settings, streams, and the checks run before any request."""

from __future__ import annotations

import re

from singer_sdk import typing as th

from tap_onetrust.streams import STREAMS
from tapkit.settings import common_settings
from tapkit.tap import PoliteTap

_HOST = re.compile(r"[a-z0-9][a-z0-9.-]*\.[a-z]{2,}", re.IGNORECASE)
_LANGUAGE = re.compile(r"[a-z]{2}(-[a-z]{2,4})?", re.IGNORECASE)


class TapOneTrust(PoliteTap):
    """OneTrust DSAR requests (with subtasks and history), consent transactions, data
    subjects, purposes and collection points."""

    name = "tap-onetrust"
    package_name = "tapworks-tap-onetrust"
    stream_classes = STREAMS

    config_jsonschema = th.PropertiesList(
        th.Property(
            "hostname",
            th.StringType,
            description="The tenant's host: app.onetrust.com, app-eu.onetrust.com, app-de, app-uk, "
            "app-apac, trial or uat (whatever your OneTrust URL starts with). Required unless base_url is set.",
        ),
        th.Property(
            "base_url",
            th.StringType,
            description="Send requests here instead of https://<hostname> (a proxy, or the sandbox).",
        ),
        th.Property(
            "client_id",
            th.StringType,
            required=True,
            description="OAuth client id (Settings > Access Management > Client Credentials) with the "
            "DSAR_READ and CONSENT_READ scopes.",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            required=True,
            secret=True,
            description="That client's secret.",
        ),
        th.Property(
            "language",
            th.StringType,
            default="en-us",
            description="Language DSAR requests are rendered in (the request-queue path's {language}).",
        ),
        *common_settings(max_concurrent_requests=4),
        th.Property(
            "consent_window_hours",
            th.IntegerType,
            description="Hours per consent-transaction request; at most 24, OneTrust's limit (the default).",
        ),
        th.Property(
            "data_subject_window_days",
            th.IntegerType,
            description="Days per data-subject request; at most 7, OneTrust's limit (the default).",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            description="Records per page (size), capped at each endpoint's maximum (500 for DSAR "
            "requests, 50 for consent and subtasks, 100 for purposes and collection points). Unset: "
            "each endpoint's maximum.",
        ),
    ).to_dict()

    def check_config(self) -> list[str]:
        errors = []
        host, base_url = self.config.get("hostname"), self.config.get("base_url")
        if not host and not base_url:
            errors.append("hostname: required (e.g. app.onetrust.com), unless base_url is set")
        bare = str(host or "").strip().removeprefix("https://").rstrip("/")
        if host and not _HOST.fullmatch(bare):
            errors.append(f"hostname: {host!r} is not a host name; use e.g. app-eu.onetrust.com")
        if base_url and not str(base_url).startswith(("http://", "https://")):
            errors.append(f"base_url: {base_url!r} is not an http(s) URL")
        language = str(self.config.get("language") or "")
        if not _LANGUAGE.fullmatch(language):
            errors.append(f"language: {language!r} is not a language tag; use e.g. en-us")
        for name in ("consent_window_hours", "data_subject_window_days", "page_size"):
            value = self.config.get(name)
            if value is not None and (isinstance(value, bool) or value < 1):
                errors.append(f"{name}: must be a positive integer, got {value!r}")
        return errors
