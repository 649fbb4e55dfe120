"""Validate the sandbox's answers against the committed excerpt of Pinterest's OpenAPI 3.0 spec.

Used by the contract tests; needs ``jsonschema`` (the ``contract`` extra).  OpenAPI 3.0 schemas
are not quite JSON Schema, so each is converted first:

- ``nullable: true`` becomes a ``null`` alternative;
- ``allOf`` parts are merged into one object (Pinterest builds every response that way), and
  objects that list properties get ``additionalProperties: false`` unless they say otherwise,
  so the sandbox can neither invent a field nor misspell one;
- a ``discriminator`` (the token answer's ``response_type``) picks the schema it maps to.

A status the operation does not declare is checked against its ``default`` answer.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema

from sandbox.pinterest.operations import SERVED
from sandbox.pinterest.spec import load

SKIP = ("description", "example", "examples", "summary", "discriminator", "title")
FORMATS = jsonschema.FormatChecker()


def operation(path: str, method: str = "get") -> dict[str, Any]:
    if (method, path) not in SERVED:
        raise KeyError(f"the sandbox does not serve {method.upper()} {path}")
    return load()["paths"][path][method]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, _, name = node["$ref"].removeprefix("#/components/").partition("/")
        node = load()["components"][section][name]
    return node


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "allOf" in node:
        node = _merge(node)
    out = {k: _convert(v) for k, v in node.items() if k not in SKIP and not k.startswith("x-")}
    out.pop("nullable", None)
    if isinstance(node.get("properties"), dict):
        out.setdefault("additionalProperties", False)
    if node.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _merge(node: dict[str, Any]) -> dict[str, Any]:
    """One schema from ``allOf`` parts (each resolved) and the node's own keywords."""
    merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.pop("properties", {}) or {})
    required: list[str] = list(merged.pop("required", []) or [])
    for part in node["allOf"]:
        resolved = _resolve(part)
        if "allOf" in resolved:
            resolved = _merge(resolved)
        properties |= resolved.get("properties", {}) or {}
        required += resolved.get("required", []) or []
        for key, value in resolved.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = sorted(set(required))
    return merged


@cache
def _components() -> dict[str, Any]:
    return {n: _convert(s) for n, s in load()["components"]["schemas"].items()}


def response_schema(path: str, status: int, method: str = "get") -> dict[str, Any] | None:
    """The declared JSON schema of an answer (None where the spec declares no JSON body)."""
    responses = operation(path, method)["responses"]
    declared = responses.get(str(status)) or responses.get("default") or {}
    schema = declared.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else dict(schema)


def _pick_by_discriminator(schema: dict[str, Any], document: Any) -> dict[str, Any]:
    target = _resolve(schema)
    discriminator = target.get("discriminator")
    if not discriminator or not isinstance(document, dict):
        return schema
    mapped = discriminator.get("mapping", {}).get(document.get(discriminator["propertyName"]))
    return {"$ref": mapped} if mapped else schema


def errors(path: str, status: int, document: Any, method: str = "get") -> list[str]:
    """Why ``document`` is not a valid ``status`` answer of the operation at ``path``."""
    schema = response_schema(path, status, method)
    if schema is None:
        return [f"the spec declares no JSON body for {status} of {method.upper()} {path}"]
    schema = _pick_by_discriminator(schema, document)
    root = {**_convert(_resolve(schema) if "$ref" in schema else schema)}
    root["components"] = {"schemas": _components()}
    validator = jsonschema.Draft202012Validator(root, format_checker=FORMATS)
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        found.append(f"{where}: {error.message[:300]}")
    return found
