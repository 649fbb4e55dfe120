"""The README's settings table is what ``python -m tap_bigquery.docs`` writes from ``--about``."""

from __future__ import annotations

from tapkit.testing import check_generated


def test_readme_is_current() -> None:
    check_generated(["-m", "tap_bigquery.docs"])
