"""Generate the streams' JSON Schemas from OneTrust's OpenAPI files.

    uv run python taps/tap-onetrust/scripts/generate_schemas.py [--spec-dir DIR] [--check]

Without ``--spec-dir`` it reads the excerpts the workspace's sandbox package carries (the
same files the sandbox's contract tests validate its answers against).  Each record's
top-level properties become typed, nullable columns; nested objects and arrays of objects
stay free-form JSON (a loader stores them whole, unknown nested keys are not dropped).
Consent instants come without a zone (``2024-01-01T00:00:00.000``, UTC): they stay
``date-time`` here and the streams rewrite them in UTC (``utc_timestamps``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from tapkit.openapi import OpenApiSchemas, write_schemas

OUT = Path(__file__).resolve().parents[1] / "tap_onetrust" / "schemas"
#: stream -> (spec file stem, method, path): the list operation whose records it emits.
SOURCES = {
    "dsar_requests": ("request-queues", "get", "/api/datasubject/v2/requestqueues/{language}"),
    "dsar_subtasks": (
        "subtasks",
        "get",
        "/api/datasubject/v2/requestqueues/{requestQueueRefId}/subtasks",
    ),
    "dsar_request_history": (
        "request-queues",
        "get",
        "/api/datasubject/v2/requestqueues/{requestQueueRefId}/requesthistory",
    ),
    "consent_transactions": ("transactions-v2", "post", "/api/consent/v2/transactions"),
    "data_subjects": ("data-subjects-v4", "get", "/rest/api/consent/v4/datasubjects"),
    "purposes": ("purposes-v2", "get", "/api/consentmanager/v2/purposes"),
    "collection_points": (
        "collection-points-v2",
        "get",
        "/api/consentmanager/v2/collectionpoints",
    ),
}
#: Columns the tap adds: the parent's key on child records (the API leaves it out).
EXTRA = {
    "dsar_request_history": {
        "requestQueueRefId": {
            "type": "string",
            "description": "The request this entry belongs to (added by the tap).",
        }
    },
}
#: Never null: primary keys and replication keys.
REQUIRED = {
    "dsar_requests": ("requestQueueId", "dateUpdated"),
    "dsar_subtasks": ("subTaskId",),
    "dsar_request_history": ("requestQueueRefId",),
    "consent_transactions": ("transactionGuid", "consentCreationDate"),
    "data_subjects": ("id",),
    "purposes": ("purposeId",),
    "collection_points": ("id",),
}


def stream_schema(spec_dir: Path, stream: str) -> dict[str, Any]:
    stem, method, path = SOURCES[stream]
    spec = OpenApiSchemas(_load(spec_dir, stem))
    document = spec.response(method, path)
    # A bare array of records, or a Spring page whose `content` holds them.
    items = document if document.get("type") == "array" else document["properties"]["content"]
    item = spec.resolve(spec.resolve(items)["items"])
    properties = spec.columns(item, REQUIRED.get(stream, ()))
    properties.update(EXTRA.get(stream, {}))
    missing = set(REQUIRED.get(stream, ())) - set(properties)
    if missing:
        raise SystemExit(f"{stream}: the spec has no field(s) {sorted(missing)}")
    return {"type": "object", "properties": properties}


def _load(spec_dir: Path, stem: str) -> dict[str, Any]:
    for suffix in (".json", ".yml", ".yaml", "-api-openapi.yml"):
        for candidate in (spec_dir / f"{stem}{suffix}", spec_dir / f"onetrust-{stem}{suffix}"):
            if candidate.exists():
                loaded: dict[str, Any] = yaml.safe_load(candidate.read_text())
                return loaded
    raise SystemExit(f"no OneTrust spec for {stem!r} in {spec_dir}")


def _sandbox_excerpts() -> Path:
    import sandbox.onetrust

    return Path(sandbox.onetrust.__file__).parent / "openapi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec-dir", type=Path, help="default: the sandbox package's excerpts")
    parser.add_argument("--check", action="store_true", help="fail if a committed schema differs")
    args = parser.parse_args()
    spec_dir = args.spec_dir or _sandbox_excerpts()
    schemas = {stream: stream_schema(spec_dir, stream) for stream in SOURCES}
    write_schemas(OUT, schemas, check=args.check)


if __name__ == "__main__":
    main()
