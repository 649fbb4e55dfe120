"""Cut Klaviyo's full OpenAPI spec down to the GET operations the sandbox serves.

    uv run python packages/sandbox/scripts/trim_klaviyo_openapi.py path/to/klaviyo-openapi-stable.json

Writes ``src/sandbox/klaviyo/openapi/klaviyo-<revision>.json``: the served operations plus every
component schema they reference, nothing else.  The sandbox reads limits, filters, sorts and
page sizes from it; the contract tests validate responses against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sandbox.klaviyo.operations import SERVED_PATHS, SPEC_REVISION

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "sandbox" / "klaviyo" / "openapi"


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


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    revision = spec["info"]["version"]
    if revision != SPEC_REVISION:
        raise SystemExit(f"spec is revision {revision}, the sandbox emulates {SPEC_REVISION}")
    paths = {}
    for path in SERVED_PATHS:
        if path not in spec["paths"] or "get" not in spec["paths"][path]:
            raise SystemExit(f"the spec has no GET {path}")
        paths[path] = {"get": spec["paths"][path]["get"]}
    seen: set[str] = set()
    referenced_schemas(paths, spec["components"]["schemas"], seen)
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "security": spec.get("security", []),
        "paths": paths,
        "components": {
            "schemas": {name: spec["components"]["schemas"][name] for name in sorted(seen)},
            "responses": spec["components"]["responses"],
            "securitySchemes": spec["components"]["securitySchemes"],
        },
    }


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    spec = json.loads(Path(sys.argv[1]).read_text())
    out = OUT_DIR / f"klaviyo-{SPEC_REVISION}.json"
    out.write_text(json.dumps(trim(spec), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {len(SERVED_PATHS)} operations)")


if __name__ == "__main__":
    main()
