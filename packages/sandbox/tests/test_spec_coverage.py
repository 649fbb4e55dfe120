"""The emulator gives a meaning to every filter field and sort the spec allows."""

from __future__ import annotations

from sandbox.klaviyo.queries import build_listings
from sandbox.klaviyo.spec import load_spec


def test_every_collection_has_a_listing_and_every_field_and_sort_an_evaluator() -> None:
    listings = build_listings()
    for operation in load_spec().operations:
        if not operation.is_collection:
            continue
        listing = listings.get(operation.path)
        assert listing is not None, f"no listing for {operation.path}"
        assert set(operation.filters) == set(listing.fields), operation.path
        assert {s.lstrip("-") for s in operation.sorts} == set(listing.sorts), operation.path
