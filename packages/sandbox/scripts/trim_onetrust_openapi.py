"""Cut OneTrust's OpenAPI files down to the operations the OneTrust sandbox serves.

    uv run python packages/sandbox/scripts/trim_onetrust_openapi.py path/to/reference/onetrust

Reads ``onetrust-<name>-api-openapi.yml`` for each spec in ``sandbox.onetrust.operations.SERVED``
and writes ``src/sandbox/onetrust/openapi/onetrust-<name>.json``: those operations plus every
component schema they reference (and the security schemes), nothing else.  The contract tests
validate the sandbox's answers against these excerpts, so CI needs no copy of the full files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from sandbox.onetrust.operations import SERVED

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "sandbox" / "onetrust" / "openapi"


def referenced_schemas(node: Any, schemas: dict[str, Any], seen: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    referenced_schemas(schemas[name], schemas, seen)
            else:
                referenced_schemas(value, schemas, seen)
    elif isinstance(node, list):
        for item in node:
            referenced_schemas(item, schemas, seen)


def trim(spec: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path in operations:
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            raise SystemExit(f"the spec has no {method.upper()} {path}")
        paths.setdefault(path, {})[method] = operation
    seen: set[str] = set()
    schemas = spec["components"]["schemas"]
    referenced_schemas(paths, schemas, seen)
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "paths": paths,
        "components": {
            "schemas": {name: schemas[name] for name in sorted(seen)},
            "securitySchemes": spec["components"].get("securitySchemes", {}),
        },
    }


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    source = Path(sys.argv[1])
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, operations in SERVED.items():
        spec = yaml.safe_load((source / f"onetrust-{name}-api-openapi.yml").read_text())
        out = OUT_DIR / f"onetrust-{name}.json"
        out.write_text(json.dumps(trim(spec, operations), indent=1, sort_keys=True) + "\n")
        print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(operations)} operations)")


if __name__ == "__main__":
    main()
