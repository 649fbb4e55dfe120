"""Cut Pinterest's OpenAPI spec down to the operations the Pinterest sandbox serves.

    uv run python packages/sandbox/scripts/trim_pinterest_openapi.py path/to/pinterest-openapi.json

Writes ``src/sandbox/pinterest/openapi/pinterest-<version>.json``: the operations in
``sandbox.pinterest.operations.SERVED`` plus every component parameter and schema they
reference (and the security schemes), nothing else.  The sandbox reads the analytics columns
from it; the contract tests validate its answers against it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sandbox.core.excerpt import trim
from sandbox.pinterest.operations import SERVED, SPEC_VERSION

OUT = (
    Path(__file__).resolve().parents[1]
    / "src/sandbox/pinterest/openapi"
    / f"pinterest-{SPEC_VERSION}.json"
)


def excerpt(spec: dict[str, Any]) -> str:
    """The excerpt's text, as written to ``OUT``."""
    version = spec["info"]["version"]
    if version != SPEC_VERSION:
        raise SystemExit(f"the spec is version {version}, the sandbox emulates {SPEC_VERSION}")
    trimmed = trim(spec, list(SERVED), sections=("parameters", "schemas"))
    return json.dumps(trimmed, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    text = excerpt(json.loads(Path(sys.argv[1]).read_text()))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(SERVED)} operations)")


if __name__ == "__main__":
    main()
