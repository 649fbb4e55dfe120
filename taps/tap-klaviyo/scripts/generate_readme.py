"""Regenerate the README's stream and settings tables from the code.

    uv run python taps/tap-klaviyo/scripts/generate_readme.py [--check]

The stream table comes from each stream's declaration (keys, incremental contract, partitions);
the settings table from ``tap-klaviyo --about --format=markdown``.  ``--check`` fails if the
README is out of date (the test suite runs it).
"""

from __future__ import annotations

from pathlib import Path

from tap_klaviyo.streams import STREAMS, declared
from tapkit.docs import main, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"
PARTITIONED = {
    "campaigns": "channel x archived",
    "campaign_messages": "child of campaigns",
    "list_members": "every list",
    "segment_members": "every segment",
    "flows": "archived",
    "flow_actions": "every flow",
}


def stream_table() -> str:
    rows = [
        "| Stream | Endpoint | Primary key | Replication key | API filter (format) | Method | Partitions | Limit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stream in STREAMS:
        name, path, keys = (declared(stream, a) for a in ("name", "path", "primary_keys"))
        contract = stream.incremental
        method = "INCREMENTAL" if contract else "FULL_TABLE"
        key = f"`{contract.replication_key}`" if contract else "—"
        api_filter = contract.describe() if contract else "none: read whole"
        if name == "campaign_messages":
            api_filter, method = "none: read from the campaigns' `include`", "with its parent"
        if name == "events":
            api_filter += "; lookback `events_lookback_minutes` (default 60); 7-day windows"
        limits = (
            " · ".join(stream.rate_limits)
            if isinstance(stream.rate_limits, tuple)
            else "75/s · 750/m (10/s · 150/m with predictive analytics)"
        )
        rows.append(
            f"| `{name}` | `GET /api{path}` | {', '.join(f'`{k}`' for k in keys)} | {key} "
            f"| {api_filter} | {method} | {PARTITIONED.get(name, '—')} | {limits or '—'} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main(README, lambda: {"streams": stream_table(), "settings": settings_table("tap_klaviyo")})
