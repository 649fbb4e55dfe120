"""Polite HTTP: how long to wait before retrying, and what to say when giving up.

Nothing here knows an API: ``Retry-After`` is RFC 9110, the error shapes are the common ones
(JSON:API ``errors[]``, ``error``, ``message``), and secrets are scrubbed from anything shown.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests


@dataclass(frozen=True)
class RetryPolicy:
    """``max_tries`` bounds attempts on 5xx, timeouts and dropped connections (exponential
    backoff with full jitter, ``base`` doubling up to ``max_wait``).  429s are waited out for
    as long as the API says, up to ``retry_after_cap`` per wait and ``max_throttled`` times."""

    max_tries: int = 8
    base: float = 1.0
    max_wait: float = 60.0
    retry_after_cap: float = 600.0
    max_throttled: int = 50

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter."""
        ceiling = min(self.max_wait, self.base * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)


def retry_after_seconds(response: requests.Response, now: datetime | None = None) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or HTTP-date), if present and valid."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)  # delta-seconds; some APIs (Shopify) send decimals, "2.0"
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def error_detail(response: requests.Response, limit: int = 500) -> str:
    """What the API said went wrong, from the body; the reason phrase when it said nothing."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:limit] if text and "<html" not in text[:200].lower() else response.reason or ""
    messages = []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            for error in errors:
                if isinstance(error, dict):
                    parts = [str(error[k]) for k in ("title", "detail") if error.get(k)]
                    source = error.get("source")
                    if isinstance(source, dict) and source.get("parameter"):
                        parts.append(f"(parameter: {source['parameter']})")
                    messages.append(" ".join(parts))
                else:
                    messages.append(str(error))
        for key in ("error_description", "error", "message", "detail"):
            if isinstance(body.get(key), str):
                messages.append(body[key])
    text = "; ".join(m for m in messages if m) or str(body)
    return text[:limit]


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (and every secret's URL-encoded form) replaced."""
    from urllib.parse import quote

    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]").replace(quote(secret, safe=""), "[redacted]")
    return text
