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


class Converter:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas = spec["components"]["schemas"]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[-1]]
        if "allOf" in node:
            merged: dict[str, Any] = {"properties": {}}
            for part in node["allOf"]:
                part = self.resolve(part)
                for key, value in part.items():
                    if key == "properties":
                        for name, schema in value.items():
                            merged["properties"][name] = self.merge(
                                merged["properties"].get(name), schema
                            )
                    else:
                        merged.setdefault(key, value)
            return merged
        return node

    def merge(self, old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
        if old is None:
            return new
        return {"allOf": [old, new]}

    def item_schema(self, path: str) -> dict[str, Any]:
        response = self.spec["paths"][path]["get"]["responses"]["200"]["content"][
            "application/vnd.api+json"
        ]["schema"]
        document = self.resolve(response)
        return self.resolve(document["properties"]["data"]["items"])

    def column(self, node: dict[str, Any]) -> dict[str, Any]:
        """A top-level column: typed and nullable; objects and object arrays kept whole."""
        node = self.resolve(node)
        alternatives = node.get("oneOf") or node.get("anyOf")
        if alternatives:
            kinds = {self.resolve(a).get("type", "object") for a in alternatives}
            if kinds <= {"string", "number", "integer", "boolean"}:
                return {"type": [*sorted(kinds), "null"]}
            return {"type": ["object", "null"]}
        kind = node.get("type", "object" if "properties" in node else None)
        if kind == "object":
            return {"type": ["object", "null"]}
        if kind == "array":
            items = self.resolve(node.get("items", {}))
            item_kind = items.get("type", "object")
            if item_kind in ("string", "number", "integer", "boolean") and not (
                items.get("oneOf") or items.get("anyOf")
            ):
                return {"type": ["array", "null"], "items": {"type": [item_kind, "null"]}}
            return {"type": ["array", "null"]}  # elements kept whole, as free-form JSON
        if kind is None:
            return {}
        column: dict[str, Any] = {"type": [kind, "null"]}
        if node.get("format") == "date-time":
            column["format"] = "date-time"
        return column

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
    stale = []
    for stream in STREAMS:
        name = declared(stream, "name")
        if name in MEMBERS:
            key, path = MEMBERS[name]
            schema = converter.members_schema(key, path)
        else:
            schema = converter.stream_schema(stream, SOURCES[name])
        target = OUT / f"{name}.json"
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
            continue
        target.write_text(text)
        print(f"{target.relative_to(OUT.parents[1])}: {len(schema['properties'])} properties")
    if stale:
        raise SystemExit(
            f"schemas out of date: {', '.join(stale)}; run scripts/generate_schemas.py"
        )


if __name__ == "__main__":
    main()
