"""Generate the streams' JSON Schemas from Klaviyo's OpenAPI spec (revision 2026-07-15).

    uv run python taps/tap-klaviyo/scripts/generate_schemas.py [--spec klaviyo-openapi.json]

Without ``--spec`` it reads the excerpt the workspace's sandbox package carries.  Top-level
attributes become typed, nullable columns; nested objects stay free-form JSON (a loader stores
them whole, and unknown nested keys are not dropped); relationships become ``<name>_id`` /
``<name>_ids`` columns; includable relations get an optional embedded column.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tap_klaviyo.client import KlaviyoStream
from tap_klaviyo.jsonapi import relation_column
from tap_klaviyo.streams import STREAMS, declared
from tapkit.openapi import OpenApiSchemas, write_schemas

OUT = Path(__file__).resolve().parents[1] / "tap_klaviyo" / "schemas"
SOURCES = {
    "profiles": "/api/profiles",
    "events": "/api/events",
    "campaigns": "/api/campaigns",
    "campaign_messages": "/api/campaigns/{id}/campaign-messages",
    "lists": "/api/lists",
    "segments": "/api/segments",
    "templates": "/api/templates",
    "metrics": "/api/metrics",
    "flows": "/api/flows",
    "flow_actions": "/api/flows/{id}/flow-actions",
    "tags": "/api/tags",
}
MEMBERS = {
    "list_members": ("list_id", "/api/lists/{id}/profiles"),
    "segment_members": ("segment_id", "/api/segments/{id}/profiles"),
}
# Relationships whose ids Klaviyo returns in `data` (the rest are links only).
RELATED_IDS = {
    "events": ("profile", "metric"),
    "campaigns": ("campaign-messages", "tags"),
    "campaign_messages": ("campaign", "template"),
    "lists": ("tags",),
    "segments": ("tags",),
    "flows": ("flow-actions", "tags"),
    "flow_actions": ("flow",),
    "tags": ("tag-group",),
}
# Attributes the spec types as bare strings though Klaviyo writes ISO 8601 instants in them:
# declared date-times so loaders store instants, not text.
DATE_TIMES = {"metrics": ("created", "updated")}
EXTRA = {
    "campaigns": {
        "channel": {
            "type": ["string", "null"],
            "description": "Campaign channel partition: email, sms or mobile_push.",
        }
    }
}


class Converter(OpenApiSchemas):
    def item_schema(self, path: str) -> dict[str, Any]:
        document = self.response("get", path)
        return self.resolve(document["properties"]["data"]["items"])

    def stream_schema(self, stream: type[KlaviyoStream], path: str) -> dict[str, Any]:
        name = declared(stream, "name")
        item = self.item_schema(path)
        properties: dict[str, Any] = {"id": {"type": "string"}}
        attributes = self.resolve(item["properties"]["attributes"])
        for attribute, node in attributes.get("properties", {}).items():
            properties[attribute] = self.column(node)
            if attribute in DATE_TIMES.get(name, ()):
                properties[attribute]["format"] = "date-time"
        relationships = self.resolve(item["properties"].get("relationships", {}))
        for relation, node in relationships.get("properties", {}).items():
            data = self.resolve(self.resolve(node).get("properties", {}).get("data", {}))
            to_many = data.get("type") == "array"
            if relation in RELATED_IDS.get(name, ()):
                properties[relation_column(relation, to_many)] = (
                    {"type": ["array", "null"], "items": {"type": "string"}}
                    if to_many
                    else {"type": ["string", "null"]}
                )
            if relation in stream.includable:
                embedded = {"type": ["object", "null"]}
                properties[relation.replace("-", "_")] = (
                    {"type": ["array", "null"]} if to_many else embedded
                )
        properties.update(EXTRA.get(name, {}))
        missing = set(RELATED_IDS.get(name, ())) - set(relationships.get("properties", {}))
        if missing:
            raise SystemExit(f"{name}: the spec has no relationship(s) {sorted(missing)}")
        return {"type": "object", "properties": properties}

    def members_schema(self, key: str, path: str) -> dict[str, Any]:
        item = self.item_schema(path)
        joined = self.column(
            self.resolve(item["properties"]["attributes"])["properties"]["joined_group_at"]
        )
        return {
            "type": "object",
            "properties": {
                key: {"type": "string"},
                "profile_id": {"type": "string"},
                "joined_group_at": joined,
            },
        }


def load_spec(path: str | None) -> dict[str, Any]:
    if path:
        return json.loads(Path(path).read_text())
    from sandbox.klaviyo.spec import load_spec as sandbox_spec

    return sandbox_spec().document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spec", help="Klaviyo OpenAPI spec (default: the sandbox package's excerpt)"
    )
    parser.add_argument("--check", action="store_true", help="fail if a committed schema differs")
    args = parser.parse_args()
    converter = Converter(load_spec(args.spec))
    schemas = {}
    for stream in STREAMS:
        name = declared(stream, "name")
        if name in MEMBERS:
            key, path = MEMBERS[name]
            schemas[name] = converter.members_schema(key, path)
        else:
            schemas[name] = converter.stream_schema(stream, SOURCES[name])
    write_schemas(OUT, schemas, check=args.check)


if __name__ == "__main__":
    main()
