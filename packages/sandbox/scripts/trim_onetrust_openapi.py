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

import yaml

from sandbox.core.excerpt import trim
from sandbox.onetrust.operations import SERVED

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "sandbox" / "onetrust" / "openapi"


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
