"""The README's tables are what tapkit generates from the stream declarations."""

from __future__ import annotations

from tapkit.testing import check_readme


def test_readme_is_current() -> None:
    check_readme("tap_shopify")
