"""Settings every tapkit tap shares, and the checks JSON Schema cannot express."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from singer_sdk import typing as th

from tapkit.timeformats import parse_instant


def common_settings(
    *, start_date_required: bool = True, max_concurrent_requests: int = 1
) -> list[th.Property]:
    """The shared settings; ``max_concurrent_requests`` is the tap's default, what its API's
    limits comfortably allow."""
    return [
        th.Property(
            "start_date",
            th.DateTimeType,
            required=start_date_required,
            description="Read records changed on or after this instant (ISO 8601) when there is no bookmark yet.",
        ),
        th.Property(
            "end_date",
            th.DateTimeType,
            description="Stop at this instant (exclusive) instead of now: for bounded or chunked backfills.",
        ),
        th.Property(
            "backfill_window_days",
            th.IntegerType,
            description="Walk history in windows of this many days, emitting state after each, so an "
            "interrupted backfill resumes where it stopped. Unset: each stream's default.",
        ),
        th.Property(
            "request_timeout_seconds",
            th.IntegerType,
            default=60,
            description="Per-request timeout.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=8,
            description="Attempts on 5xx answers, timeouts and dropped connections, with exponential backoff.",
        ),
        th.Property(
            "max_retry_after_seconds",
            th.IntegerType,
            default=600,
            description="Longest Retry-After wait honoured on a 429; a longer one fails the run with the reason.",
        ),
        th.Property(
            "replace_nul_characters",
            th.BooleanType,
            default=False,
            description="Replace U+0000 with U+FFFD in every string, however deeply nested: for loaders that "
            "cannot store NUL (Postgres text and JSONB).",
        ),
        th.Property(
            "validate_records",
            th.BooleanType,
            default=True,
            description="Check every record against its stream's schema before writing it (so the loader need not).",
        ),
        th.Property(
            "rate_limit_percent",
            th.IntegerType,
            default=100,
            description="Percent of the API's documented rate limits to use client-side (0 turns client-side "
            "throttling off). An integer: Meltano 4.4 cannot pass a decimal setting from an environment variable.",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType,
            default=max_concurrent_requests,
            description="Windows (or slices of a large range) fetched at once, under the same rate "
            "limits; records and state still go out in order. 1 sends one request at a time.",
        ),
        th.Property(
            "progress_interval_seconds",
            th.IntegerType(minimum=0),
            default=30,
            description="Log each stream's progress (records so far and their rate, per partition and "
            "window) at most this often; 0 turns progress lines off. A summary per stream (records, "
            "requests, retries, 429s, duration, final bookmark) is logged at the end either way.",
        ),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=True,
            description="Frame every whole read (full-table streams, list and segment memberships, and "
            "any run without a bookmark: the first, --full-refresh, cleared state) in ACTIVATE_VERSION "
            "messages, so the loader marks rows the read did not return (deleted in the source, or older "
            "than start_date) with _sdc_deleted_at.",
        ),
        th.Property(
            "reread_last_days",
            th.IntegerType,
            description="Reconcile: ignore bookmarks and read the last N days (never before start_date) of "
            "every incremental stream, to pick up records that arrived later than the lookback. Removes "
            "nothing and never moves a bookmark back; give it its own state (an inherited plugin).",
        ),
        th.Property(
            "strict_settings",
            th.BooleanType,
            default=False,
            description="Fail on a setting the tap does not know (a typo) instead of warning about it.",
        ),
    ]


def check_common_config(config: Mapping[str, Any]) -> list[str]:
    """Problems with the shared settings, each naming the setting and what to do."""
    errors = []
    start = end = None
    for name in ("start_date", "end_date"):
        value = config.get(name)
        if value is None:
            continue
        try:
            parsed = parse_instant(str(value))
        except ValueError:
            errors.append(
                f"{name}: {value!r} is not an ISO 8601 date-time; use e.g. 2024-01-31T00:00:00Z"
            )
            continue
        if name == "start_date":
            start = parsed
        else:
            end = parsed
    if start is not None and end is not None and end <= start:
        errors.append(
            f"end_date ({config['end_date']}) must be after start_date ({config['start_date']})"
        )
    for name, minimum in (
        ("rate_limit_percent", 0),
        ("backfill_window_days", 1),
        ("request_timeout_seconds", 1),
        ("max_retries", 1),
        ("max_retry_after_seconds", 0),
        ("max_concurrent_requests", 1),
        ("reread_last_days", 1),
    ):
        value = config.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < minimum
        ):
            errors.append(f"{name}: must be an integer of at least {minimum}, got {value!r}")
    return errors


def rename_aliases(
    config: MutableMapping[str, Any], aliases: Mapping[str, str], schema: Mapping[str, Any]
) -> list[str]:
    """Settings given under another tap's name (``auth_token`` for ``api_key``) moved to
    ours, in place; the errors name a setting given under both names."""
    errors = []
    for alias, name in aliases.items():
        if alias not in config:
            continue
        value = config.pop(alias)
        types = schema.get(name, {}).get("type", [])
        if (
            "string" in types
            and isinstance(value, int | float | Decimal)
            and not isinstance(value, bool)
        ):
            value = str(value)  # a number under a former name of a now textual setting (minutes)
        if config.get(name) not in (None, "") and config[name] != value:
            errors.append(f"{alias}: is another name for {name}, and both are set; keep one")
        else:
            config[name] = value
    return errors


def unknown_settings(config: Iterable[str], known: Iterable[str]) -> list[str]:
    """One message per setting the tap does not know, naming the closest known one."""
    known = sorted(set(known))
    messages = []
    for name in sorted(set(config) - set(known)):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f"did you mean {close[0]}?" if close else "it is not one of this tap's settings"
        messages.append(f"{name}: unknown setting, ignored; {hint}")
    return messages


_DURATION = re.compile(r"(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?)?")
_MINUTES_PER_UNIT = {"m": 1, "h": 60, "d": 24 * 60}


def parse_duration(value: Any) -> timedelta:
    """``90m``, ``6h``, ``2d`` (a bare number is minutes, the unit of the older settings)."""
    text = str(value).strip().lower()
    match = None if isinstance(value, bool) else _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{value!r} is not a duration; use minutes, hours or days: 90m, 6h, 2d")
    number, unit = match.groups()
    return timedelta(minutes=int(number) * _MINUTES_PER_UNIT[(unit or "m")[0]])
