"""Every singer-sdk private name tapkit relies on, in one place, with the reason.

singer-sdk marks these private, so an upgrade may rename or remove them without notice;
``tests/test_sdk_private.py`` fails when one is gone, naming it, before a tap breaks at run
time.  Use a name from this list, or add it here with its reason; nowhere else.
"""

from __future__ import annotations

from singer_sdk.helpers._catalog import pop_deselected_record_properties

#: (owner, attribute, why tapkit needs it)
USED: tuple[tuple[str, str, str], ...] = (
    (
        "singer_sdk.Stream",
        "_generate_record_messages",
        "overridden: skips conformance and deselection walks over records already validated",
    ),
    (
        "singer_sdk.Stream",
        "_write_schema_message",
        "overridden: a child stream's SCHEMA once per run, not once per parent record",
    ),
    (
        "singer_sdk.Stream",
        "_increment_stream_state",
        "overridden: the engine moves bookmarks at window ends, not singer-sdk per record",
    ),
    ("singer_sdk.Stream", "_write_state_message", "called: emit STATE when the engine advances"),
    ("singer_sdk.Stream", "_stream_version", "set and read: the version RECORD messages carry"),
    ("singer_sdk.Stream", "_tap", "read: the tap, for objects shared by all its streams"),
    (
        "singer_sdk.RESTStream",
        "_request",
        "called: send with the authenticator, the request-duration metric and validate_response",
    ),
    ("singer_sdk.Tap", "_validate_config", "overridden: add the checks JSON Schema cannot express"),
    (
        "singer_sdk.Tap",
        "_config",
        "changed: settings given under another variant's name renamed before validation",
    ),
    (
        "singer_sdk.Stream",
        "_write_activate_version_message",
        "called: frame a whole read in ACTIVATE_VERSION, before and after",
    ),
    (
        "singer_sdk.helpers._catalog",
        "pop_deselected_record_properties",
        "called: drop deselected properties (our record path skips singer-sdk's)",
    ),
)

__all__ = ["USED", "pop_deselected_record_properties"]
