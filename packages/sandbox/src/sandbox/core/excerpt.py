"""Cutting a vendor's OpenAPI spec down to the operations a sandbox serves: those operations
plus every component they reference, transitively, and nothing else.  The trim scripts under
``scripts/`` write such excerpts into the package, so the contract tests need no full spec."""

from __future__ import annotations

from typing import Any


def referenced(
    node: Any, components: dict[str, Any], sections: tuple[str, ...], seen: set[str]
) -> None:
    """Adds to ``seen`` each ``section/name`` that ``node`` references, and what those do."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                section, _, name = value.removeprefix("#/components/").partition("/")
                if section in sections and f"{section}/{name}" not in seen:
                    seen.add(f"{section}/{name}")
                    referenced(components[section][name], components, sections, seen)
            elif key == "discriminator" and isinstance(value, dict):
                # A discriminator's mapping names schemas too (a validator follows them).
                mapped = [{"$ref": ref} for ref in (value.get("mapping") or {}).values()]
                referenced(mapped, components, sections, seen)
            else:
                referenced(value, components, sections, seen)
    elif isinstance(node, list):
        for item in node:
            referenced(item, components, sections, seen)


def trim(
    spec: dict[str, Any],
    operations: list[tuple[str, str]],
    sections: tuple[str, ...] = ("schemas",),
) -> dict[str, Any]:
    """The excerpt: ``(method, path)`` operations, the ``sections`` of components they
    reference, and the security schemes."""
    paths: dict[str, Any] = {}
    for method, path in operations:
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            raise SystemExit(f"the spec has no {method.upper()} {path}")
        paths.setdefault(path, {})[method] = operation
    seen: set[str] = set()
    components = spec["components"]
    referenced(paths, components, sections, seen)
    kept: dict[str, Any] = {}
    for section in sections:
        names = sorted(n.partition("/")[2] for n in seen if n.partition("/")[0] == section)
        kept[section] = {name: components[section][name] for name in names}
    kept["securitySchemes"] = components.get("securitySchemes", {})
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "paths": paths,
        "components": kept,
    }
