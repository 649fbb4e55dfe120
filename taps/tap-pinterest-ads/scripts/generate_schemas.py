"""Generate the entity streams' JSON Schemas from Pinterest's OpenAPI spec (5.23.0).

    uv run python taps/tap-pinterest-ads/scripts/generate_schemas.py [--spec FILE] [--check]

Without ``--spec`` it reads the excerpt the workspace's sandbox package carries (the same
file the sandbox's contract tests validate its answers against).  Each record's top-level
properties become typed, nullable columns; nested objects stay free-form JSON.  The
analytics streams' schemas follow the configured columns, so they are built by the tap.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tapkit.openapi import OpenApiSchemas, write_schemas

OUT = Path(__file__).resolve().parents[1] / "tap_pinterest_ads" / "schemas"
#: stream -> the list operation whose items it emits.
SOURCES = {
    "ad_accounts": "/ad_accounts",
    "campaigns": "/ad_accounts/{ad_account_id}/campaigns",
    "ad_groups": "/ad_accounts/{ad_account_id}/ad_groups",
    "ads": "/ad_accounts/{ad_account_id}/ads",
}
#: Never null: primary keys and replication keys.
REQUIRED = {
    "ad_accounts": ("id",),
    "campaigns": ("id", "updated_time"),
    "ad_groups": ("id", "updated_time"),
    "ads": ("id", "updated_time"),
}


def stream_schema(spec: OpenApiSchemas, stream: str) -> dict[str, Any]:
    document = spec.response("get", SOURCES[stream])
    items = document["properties"]["items"]
    # `Paginated` declares a generic `items` the operation's own part narrows: take that one.
    items = items["allOf"][-1] if "allOf" in items else items
    item = spec.resolve(spec.resolve(items)["items"])
    properties = spec.columns(item, REQUIRED[stream])
    for name, column in properties.items():
        if not column:  # untyped in the spec (ad groups' dca_assets): kept whole as JSON
            properties[name] = {"type": ["object", "null"]}
    missing = set(REQUIRED[stream]) - set(properties)
    if missing:
        raise SystemExit(f"{stream}: the spec has no field(s) {sorted(missing)}")
    return {"type": "object", "properties": properties}


def _sandbox_excerpt() -> Path:
    import sandbox.pinterest

    return Path(sandbox.pinterest.__file__).parent / "openapi" / "pinterest-5.23.0.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, help="default: the sandbox package's excerpt")
    parser.add_argument("--check", action="store_true", help="fail if a committed schema differs")
    args = parser.parse_args()
    spec = OpenApiSchemas(json.loads((args.spec or _sandbox_excerpt()).read_text()))
    schemas = {stream: stream_schema(spec, stream) for stream in SOURCES}
    write_schemas(OUT, schemas, check=args.check)


if __name__ == "__main__":
    main()
