"""Validate the sandbox's answers against the committed excerpts of OneTrust's OpenAPI files.

Used by the contract tests; needs ``jsonschema`` (the ``contract`` extra).  The excerpts are
OpenAPI 3.2, whose schemas are JSON Schema; this tightens them for checking:

- objects that list properties get ``additionalProperties: false`` (unless they say otherwise)
  and lose their ``writeOnly`` properties, so the sandbox cannot invent or leak fields;
- one deliberate deviation: the DSAR list operations declare a bare array, but the API answers
  a Spring page, so their 200 is checked as a page whose ``content`` is that array.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from sandbox.onetrust import operations

SKIP = ("description", "example", "examples", "summary")
#: Operations whose 200 is a Spring page around the declared array.
PAGED_ARRAYS = frozenset(
    {
        operations.REQUESTS,
        operations.REQUEST_SUBTASKS,
        operations.REQUEST_HISTORY,
        operations.SUBTASKS,
    }
)
_INT: dict[str, Any] = {"type": "integer"}
_SORT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sorted": {"type": "boolean"},
        "unsorted": {"type": "boolean"},
        "empty": {"type": "boolean"},
    },
    "required": ["sorted", "unsorted", "empty"],
    "additionalProperties": False,
}
_PAGEABLE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sort": _SORT,
        "offset": _INT,
        "pageNumber": _INT,
        "pageSize": _INT,
        "paged": {"type": "boolean"},
        "unpaged": {"type": "boolean"},
    },
    "additionalProperties": False,
}
PAGE_FIELDS = ("totalPages", "totalElements", "number", "size", "numberOfElements")
PAGE_FLAGS = ("first", "last", "empty")


@cache
def load(stem: str) -> dict[str, Any]:
    """The excerpt of ``onetrust-<stem>-api-openapi.yml`` (see scripts/trim_onetrust_openapi.py)."""
    text = resources.files("sandbox.onetrust").joinpath(f"openapi/onetrust-{stem}.json").read_text()
    return json.loads(text)


def spec_of(path: str) -> tuple[str, str]:
    """(spec stem, method) of a served operation."""
    for stem, served in operations.SERVED.items():
        for method, served_path in served:
            if served_path == path:
                return stem, method
    raise KeyError(f"the sandbox does not serve {path}")


def operation(path: str) -> dict[str, Any]:
    stem, method = spec_of(path)
    return load(stem)["paths"][path][method]


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k not in SKIP and not k.startswith("x-")}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {
            name: _convert(schema)
            for name, schema in node["properties"].items()
            if not (isinstance(schema, dict) and schema.get("writeOnly"))
        }
        out.setdefault("additionalProperties", False)
    return out


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    """ISO 8601; zone-less is allowed because the consent APIs write UTC without a zone."""
    if isinstance(value, str):
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or "@" in value


def _validator(stem: str, schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    components = {n: _convert(s) for n, s in load(stem)["components"]["schemas"].items()}
    root = {**_convert(schema), "components": {"schemas": components}}
    return jsonschema.Draft202012Validator(root, format_checker=FORMATS)


def response_schema(path: str, status: int) -> dict[str, Any] | None:
    """The declared JSON schema of an answer (None where the spec declares no body)."""
    content = operation(path)["responses"].get(str(status), {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    if status == 200 and path in PAGED_ARRAYS:
        properties: dict[str, Any] = dict.fromkeys(PAGE_FIELDS, _INT)
        properties |= {name: {"type": "boolean"} for name in PAGE_FLAGS}
        properties |= {"content": schema, "sort": _SORT, "pageable": _PAGEABLE}
        return {
            "type": "object",
            "properties": properties,
            "required": ["content", *PAGE_FIELDS, *PAGE_FLAGS],
            "additionalProperties": False,
        }
    return schema


def errors(path: str, status: int, document: Any) -> list[str]:
    """Why ``document`` is not a valid ``status`` answer of the operation at ``path``."""
    schema = response_schema(path, status)
    if schema is None:
        return [f"the spec declares no JSON body for {status} of {path}"]
    validator = _validator(spec_of(path)[0], schema)
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        found.append(f"{where}: {error.message[:300]}")
    return found
