"""Stream schemas from a vendor's OpenAPI document, for the taps' schema generators.

A tap's ``scripts/generate_schemas.py`` picks each stream's record schema from the spec and
turns its top-level properties into typed, nullable columns; nested objects and arrays of
objects stay free-form JSON (a loader stores them whole, unknown nested keys are not
dropped).  ``write_schemas`` writes them or, with ``check``, fails when a committed file
differs, which the taps' tests run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCALARS = ("string", "number", "integer", "boolean")


class OpenApiSchemas:
    """Resolves ``$ref``/``allOf`` in one OpenAPI document and maps schemas to columns."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = spec
        self.schemas: Mapping[str, Any] = spec.get("components", {}).get("schemas", {})

    def resolve(self, node: Mapping[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schemas[node["$ref"].rsplit("/", 1)[-1]]
        if "allOf" not in node:
            return dict(node)
        merged: dict[str, Any] = {"properties": {}}
        for part in node["allOf"]:
            resolved = self.resolve(part)
            for name, schema in resolved.get("properties", {}).items():
                old = merged["properties"].get(name)
                # A property two parts declare must satisfy both.
                merged["properties"][name] = schema if old is None else {"allOf": [old, schema]}
            for key, value in resolved.items():
                merged.setdefault(key, value)
        return merged

    def response(self, method: str, path: str, status: str = "200") -> dict[str, Any]:
        """The resolved body schema of one operation's answer (its first content type)."""
        content = self.spec["paths"][path][method]["responses"][status]["content"]
        return self.resolve(next(iter(content.values()))["schema"])

    def column(self, node: Mapping[str, Any]) -> dict[str, Any]:
        """A top-level column: typed and nullable; objects and object arrays kept whole."""
        node = self.resolve(node)
        alternatives = node.get("oneOf") or node.get("anyOf")
        if alternatives:
            kinds = {self.resolve(a).get("type", "object") for a in alternatives}
            if kinds <= set(SCALARS):
                return {"type": [*sorted(kinds), "null"]}
            return {"type": ["object", "null"]}
        kind = node.get("type", "object" if "properties" in node else None)
        if kind == "object":
            return {"type": ["object", "null"]}
        if kind == "array":
            items = self.resolve(node.get("items", {}))
            item_kind = items.get("type", "object")
            if item_kind in SCALARS and not (items.get("oneOf") or items.get("anyOf")):
                return {"type": ["array", "null"], "items": {"type": [item_kind, "null"]}}
            return {"type": ["array", "null"]}
        if kind is None:
            return {}
        column: dict[str, Any] = {"type": [kind, "null"]}
        if node.get("format") == "date-time":
            column["format"] = "date-time"
        return column

    def columns(
        self, item: Mapping[str, Any], required: tuple[str, ...] = ()
    ) -> dict[str, dict[str, Any]]:
        """Columns of a record schema's properties; ``required`` ones are never null."""
        properties: dict[str, dict[str, Any]] = {}
        for name, node in self.resolve(item).get("properties", {}).items():
            column = self.column(node)
            if name in required:
                column["type"] = next(t for t in column["type"] if t != "null")
            properties[name] = column
        return properties


def write_schemas(out: Path, schemas: Mapping[str, Mapping[str, Any]], *, check: bool) -> None:
    """Write ``<out>/<stream>.json`` for each schema, or fail listing the stale ones."""
    stale = []
    for stream, schema in schemas.items():
        target = out / f"{stream}.json"
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
            continue
        target.write_text(text)
        print(f"{target.name}: {len(schema.get('properties', {}))} properties")
    if stale:
        raise SystemExit(
            f"schemas out of date: {', '.join(stale)}; run scripts/generate_schemas.py"
        )
