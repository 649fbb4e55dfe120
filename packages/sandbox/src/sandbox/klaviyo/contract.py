"""Validate documents against the response schemas of the committed OpenAPI excerpt.

Used by the contract tests; needs ``jsonschema`` (the ``contract`` extra).

OpenAPI 3.0 schemas are not JSON Schema; this converts them:

- ``nullable: true`` admits null;
- ``allOf`` of object schemas is merged into one object (so strictness below still works);
- ``oneOf`` becomes ``anyOf``: Klaviyo's alternatives overlap (``EmailSendOptions`` and
  ``SMSSendOptions`` are identical), so a strict oneOf would reject real Klaviyo documents;
- objects that list properties get ``additionalProperties: false`` (unless they say otherwise),
  so the sandbox cannot invent fields the spec does not have;
- one deliberate deviation from the spec: ``links.next``/``links.prev`` of a collection may be
  null.  The spec types them as strings, but the live API sends null on the last page, and
  taps must handle that.
"""

from __future__ import annotations

import copy
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema

from sandbox.klaviyo.spec import load_spec

FREE_FORM = {"properties", "event_properties", "kv_pairs", "metadata"}


def _convert(node: Any, schemas: dict[str, Any], name: str | None = None) -> Any:
    if isinstance(node, list):
        return [_convert(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        k: v
        for k, v in node.items()
        if k not in ("example", "description", "discriminator") and not k.startswith("x-")
    }
    if "allOf" in node:
        node = _merge_all_of(node, schemas)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {prop: _convert(schema, schemas, prop) for prop, schema in value.items()}
        elif key == "oneOf":
            out["anyOf"] = _convert(value, schemas)
        elif key == "nullable":
            continue
        else:
            out[key] = _convert(value, schemas)
    if "properties" in out and "additionalProperties" not in out and name not in FREE_FORM:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out and "enum" not in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _resolve(node: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _merge_all_of(node: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    for part in node["allOf"]:
        part = _resolve(part, schemas)
        if "allOf" in part:
            part = _merge_all_of(part, schemas)
        for key, value in part.items():
            if key == "properties":
                props = merged.setdefault("properties", {})
                for prop, schema in value.items():
                    props[prop] = {"allOf": [props[prop], schema]} if prop in props else schema
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            else:
                merged.setdefault(key, value)
    return merged


@cache
def _components() -> dict[str, Any]:
    document = load_spec().document
    raw = document["components"]["schemas"]
    converted = {name: _convert(schema, raw, None) for name, schema in raw.items()}
    links = copy.deepcopy(converted["CollectionLinks"])
    for key in ("next", "prev"):
        links["properties"][key] = {"type": ["string", "null"], "format": "uri"}
    converted["CollectionLinks"] = links
    error = _convert(
        document["components"]["responses"]["ClientError"]["content"]["application/vnd.api+json"][
            "schema"
        ],
        raw,
    )
    error["properties"]["errors"]["items"]["properties"]["status"] = {"type": "integer"}
    return {"schemas": converted, "error": error}


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.tzinfo is not None


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or value.startswith(("http://", "https://"))


def _validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    root = {**schema, "components": {"schemas": _components()["schemas"]}}
    return jsonschema.Draft7Validator(root, format_checker=FORMATS)


def response_errors(path: str, document: Any) -> list[str]:
    """Why ``document`` is not a valid 200 response of ``GET path`` (empty when it is)."""
    operation = next(op for op in load_spec().operations if op.path == path)
    schema = _convert(operation.response_schema, load_spec().document["components"]["schemas"])
    return _messages(_validator(schema), document)


def error_errors(document: Any) -> list[str]:
    """Why ``document`` is not a valid Klaviyo error response (4XX/5XX)."""
    return _messages(_validator(_components()["error"]), document)


def _messages(validator: jsonschema.Draft7Validator, document: Any) -> list[str]:
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        while error.context:  # an anyOf failed: report the alternative that came closest
            error = jsonschema.exceptions.best_match(error.context)
        where = "/".join(str(p) for p in error.absolute_path)
        found.append(f"{where}: {error.message[:300]}")
    return found
