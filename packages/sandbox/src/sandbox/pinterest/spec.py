"""The committed excerpt of Pinterest's OpenAPI spec (see scripts/trim_pinterest_openapi.py):
what the sandbox reads from it at run time (the analytics column names), and the loader the
contract checks share."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from sandbox.pinterest.operations import SPEC_VERSION

EXCERPT = f"openapi/pinterest-{SPEC_VERSION}.json"


@cache
def load() -> dict[str, Any]:
    text = resources.files("sandbox.pinterest").joinpath(EXCERPT).read_text()
    return json.loads(text)


@cache
def analytics_columns() -> frozenset[str]:
    """The ``columns`` enum of the synchronous analytics endpoints."""
    schema = load()["components"]["parameters"]["query_columns"]["schema"]
    return frozenset(schema["items"]["enum"])
