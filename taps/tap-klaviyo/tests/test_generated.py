"""The committed schemas and README tables are what the generators produce from the code."""

from __future__ import annotations

from pathlib import Path

from tapkit.testing import check_generated, check_readme

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_schemas_are_current() -> None:
    check_generated([str(SCRIPTS / "generate_schemas.py")])


def test_readme_is_current() -> None:
    check_readme("tap_klaviyo")
