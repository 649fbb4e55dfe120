"""OneTrust's timestamp and date shapes, which differ by API family (one formatter each):

- DSAR records: ``2019-09-25T06:50:15.470Z`` (milliseconds, Z);
- DSAR audit history: ``2020-12-04T15:52:41.954300Z`` (microseconds, Z);
- consent records: ``2024-01-01T00:00:00.000`` (milliseconds, no zone: UTC);
- query filters: ``yyyyMMdd`` (DSAR), ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS`` (consent).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DAY = re.compile(r"\d{8}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONSENT = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,3})?)?")


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def dsar_time(ms: int) -> str:
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def history_time(us: int) -> str:
    return _utc(us // 1000).strftime("%Y-%m-%dT%H:%M:%S.") + f"{us % 1_000_000:06d}Z"


def consent_time(ms: int) -> str:
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}"


def parse_ms(text: str) -> int:
    """Any ISO 8601 instant (``Z``, an offset, or none: UTC) to epoch milliseconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def parse_day(text: str) -> int | None:
    """``yyyyMMdd`` to the epoch milliseconds of that UTC midnight; None for any other shape."""
    if not _DAY.fullmatch(text):
        return None
    try:
        value = datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(value.timestamp()) * 1000


def parse_consent(text: str, *, date_only: bool = True) -> int | None:
    """``YYYY-MM-DD`` (when ``date_only``) or ``YYYY-MM-DDTHH:MM:SS[.SSS]``, zone-less UTC, to
    epoch milliseconds; None for any other shape."""
    matched = _CONSENT.fullmatch(text)
    if not matched or (matched.group(1) is None and not date_only):
        return None
    try:
        return parse_ms(text)
    except ValueError:
        return None
