"""What the emulator knows about each operation, read from the committed OpenAPI excerpt.

Page sizes, sort fields, filterable fields and operators, includes, sparse fieldsets and rate
tiers all come from the spec, so the sandbox cannot drift from the revision it claims to serve.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sandbox.core.ratelimit import Tier
from sandbox.klaviyo.operations import SERVED_PATHS, SPEC_REVISION


@dataclass(frozen=True)
class FilterField:
    name: str
    single: frozenset[str]  # operators taking one value
    many: frozenset[str]  # operators taking a list
    bare: frozenset[str]  # operators taking no value (has)
    value_type: str | None  # string | number | boolean
    value_format: str | None  # date-time
    enum: tuple[str, ...] | None

    @property
    def operators(self) -> frozenset[str]:
        return self.single | self.many | self.bare


@dataclass(frozen=True)
class Operation:
    operation_id: str
    path: str
    pattern: re.Pattern[str]
    tier: Tier
    params: frozenset[str]
    filter_required: bool
    filters: dict[str, FilterField]
    sorts: frozenset[str]
    page_size_default: int | None
    page_size_max: int | None
    includes: frozenset[str]
    fields: dict[str, frozenset[str]]  # resource type -> allowed sparse fields
    additional_fields: dict[str, frozenset[str]]
    response_schema: dict[str, Any]

    @property
    def is_collection(self) -> bool:
        return "Collection" in self.response_schema.get("$ref", "")

    @property
    def is_paged(self) -> bool:
        return "page[cursor]" in self.params


@dataclass(frozen=True)
class Spec:
    revision: str
    document: dict[str, Any]
    operations: tuple[Operation, ...]

    def match(self, path: str) -> tuple[Operation, dict[str, str]] | None:
        trimmed = path.rstrip("/") or "/"
        for operation in self.operations:
            found = operation.pattern.fullmatch(trimmed)
            if found:
                return operation, found.groupdict()
        return None


@cache
def load_spec() -> Spec:
    text = (
        resources.files("sandbox.klaviyo")
        .joinpath(f"openapi/klaviyo-{SPEC_REVISION}.json")
        .read_text()
    )
    document = json.loads(text)
    operations = tuple(_operation(path, document["paths"][path]["get"]) for path in SERVED_PATHS)
    return Spec(SPEC_REVISION, document, operations)


def _operation(path: str, op: dict[str, Any]) -> Operation:
    params = {p["name"]: p for p in op["parameters"] if "name" in p}
    limit = op["x-klaviyo-ratelimit"]
    page_schema = params.get("page[size]", {}).get("schema", {})
    return Operation(
        operation_id=op["operationId"],
        path=path,
        pattern=re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))),
        tier=Tier.parse(limit["burst"], limit["steady"]),
        params=frozenset(name for name, p in params.items() if p.get("in") == "query"),
        filter_required=bool(params.get("filter", {}).get("required")),
        filters={
            name: _filter_field(name, rule)
            for name, rule in op.get("x-klaviyo-filters", {}).items()
        },
        sorts=frozenset(params.get("sort", {}).get("schema", {}).get("enum", [])),
        page_size_default=page_schema.get("default"),
        page_size_max=page_schema.get("maximum"),
        includes=_enum(params.get("include")),
        fields={
            name[len("fields[") : -1]: _enum(p)
            for name, p in params.items()
            if name.startswith("fields[")
        },
        additional_fields={
            name[len("additional-fields[") : -1]: _enum(p)
            for name, p in params.items()
            if name.startswith("additional-fields[")
        },
        response_schema=op["responses"]["200"]["content"]["application/vnd.api+json"]["schema"],
    )


def _filter_field(name: str, rule: dict[str, Any]) -> FilterField:
    ops = rule["operators"]
    value = rule.get("value", {})
    return FilterField(
        name=name,
        single=frozenset(ops.get("single", [])),
        many=frozenset(ops.get("list", [])),
        bare=frozenset(ops.get("none", [])),
        value_type=value.get("type"),
        value_format=value.get("format"),
        enum=tuple(value["enum"]) if "enum" in value else None,
    )


def _enum(param: dict[str, Any] | None) -> frozenset[str]:
    if not param:
        return frozenset()
    return frozenset(param.get("schema", {}).get("items", {}).get("enum", []))
