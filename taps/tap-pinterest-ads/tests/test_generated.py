"""The README's tables and the stream schemas are what their generators write."""

from __future__ import annotations

from pathlib import Path

from tapkit.testing import check_generated, check_readme

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "generate_schemas.py"


def test_readme_is_current() -> None:
    check_readme("tap_pinterest_ads")


def test_schemas_are_generated_from_the_sandbox_spec() -> None:
    check_generated([str(SCRIPT)])
