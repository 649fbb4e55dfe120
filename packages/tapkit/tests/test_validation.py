from __future__ import annotations

import sys
from typing import Any

import pytest
from singer_sdk.exceptions import InvalidRecord

from tapkit.validation import record_validator

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "updated": {"type": ["string", "null"], "format": "date-time"},
        "count": {"type": ["integer", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}


@pytest.fixture(params=["fastjsonschema", "jsonschema"])
def validator_kind(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "jsonschema":
        monkeypatch.setitem(sys.modules, "fastjsonschema", None)  # the `fast` extra is missing
    return str(request.param)


def test_valid_records_pass(validator_kind: str) -> None:
    validate = record_validator(SCHEMA)
    validate({"id": "a", "updated": "2024-01-02T03:04:05+00:00", "count": 3, "tags": ["x"]})
    validate({"id": "b", "updated": None, "count": None, "tags": None})


@pytest.mark.parametrize(
    ("record", "named"),
    [
        ({"id": 1}, "id"),
        ({"id": "a", "count": "3"}, "count"),
        ({"id": "a", "tags": ["x", 2]}, "tags[1]"),
    ],
)
def test_invalid_records_fail_naming_the_field(
    validator_kind: str, record: dict[str, Any], named: str
) -> None:
    validate = record_validator(SCHEMA)
    with pytest.raises(InvalidRecord) as caught:
        validate(record)
    assert named in str(caught.value)


def test_the_fast_validator_also_checks_date_times() -> None:
    # jsonschema checks the date-time format only when rfc3339-validator is installed
    with pytest.raises(InvalidRecord, match="updated"):
        record_validator(SCHEMA)({"id": "a", "updated": "last tuesday"})
