"""Regenerate the README's stream and settings tables from the code.

    uv run python taps/tap-shopify/scripts/generate_readme.py [--check]

The stream table comes from each stream's declaration (keys, incremental contract with its
historical and incremental filters, parent); the settings table from ``tap-shopify --about``.
"""

from __future__ import annotations

from pathlib import Path

from tap_shopify.streams import STREAMS, declared
from tapkit.docs import main, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def stream_table() -> str:
    rows = [
        "| Stream | Endpoint | Primary key | Replication key | API filter (format) | Method | Parent | Fixed parameters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stream in STREAMS:
        name, path, keys = (declared(stream, a) for a in ("name", "path", "primary_keys"))
        contract = stream.incremental
        parent = stream.parent_stream_type
        if contract:
            method, key, api_filter = (
                "INCREMENTAL",
                f"`{contract.replication_key}`",
                contract.describe(),
            )
        elif parent is not None:
            method, key, api_filter = (
                "with its parent",
                "—",
                "none: every record of each parent read",
            )
        else:
            method, key, api_filter = "FULL_TABLE", "—", "none: read whole"
        if contract and contract.window:
            api_filter += f"; {contract.window.days}-day windows"
        fixed = ", ".join(f"`{k}={v}`" for k, v in stream.fixed_params.items()) or "—"
        parent_name = f"`{declared(parent, 'name')}`" if parent else "—"
        key_list = ", ".join(f"`{k}`" for k in keys)
        rows.append(
            f"| `{name}` | `GET /admin/api/{{version}}{path}` | {key_list} "
            f"| {key} | {api_filter} | {method} | {parent_name} | {fixed} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main(README, lambda: {"streams": stream_table(), "settings": settings_table("tap_shopify")})
