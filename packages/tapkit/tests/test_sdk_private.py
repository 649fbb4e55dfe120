"""A singer-sdk upgrade that removes a private name tapkit uses fails here, naming it."""

from __future__ import annotations

import importlib
import pathlib
import re
from typing import Any, ClassVar

import pytest
from singer_sdk import Stream, Tap

from tapkit import sdk_private

SOURCE = pathlib.Path(sdk_private.__file__).parent


class _Stream(Stream):
    name = "things"
    schema: ClassVar[dict[str, Any]] = {"properties": {"id": {"type": "integer"}}}

    def get_records(self, context: Any) -> Any:
        return iter(())


class _Tap(Tap):
    name = "tap-things"
    config_jsonschema: ClassVar[dict[str, Any]] = {"properties": {}}

    def discover_streams(self) -> list[Stream]:
        return [_Stream(tap=self)]


def _owner(path: str) -> object:
    """The class or module, or for a stream or tap class an instance: some names are set in
    ``__init__``."""
    module, _, name = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        found = getattr(importlib.import_module(module), name)
    if found is Stream:
        return _Tap(config={}, validate_config=False).streams["things"]
    if found is Tap:
        return _Tap(config={}, validate_config=False)
    return found


@pytest.mark.parametrize(("owner", "name", "why"), sdk_private.USED)
def test_every_private_name_still_exists(owner: str, name: str, why: str) -> None:
    assert hasattr(_owner(owner), name), f"singer-sdk no longer has {owner}.{name} ({why})"


def test_no_private_singer_sdk_name_is_used_outside_the_list() -> None:
    listed = {name for _, name, _ in sdk_private.USED}
    # names tapkit defines itself on its own classes
    own = {"_tapkit_shared", "_advance", "_validate", "_secrets", "_throttled_wait"}
    for path in SOURCE.glob("*.py"):
        if path.name == "sdk_private.py":
            continue
        text = path.read_text()
        assert "singer_sdk.helpers._" not in text, f"{path.name}: import it through sdk_private"
        if "singer_sdk" not in text:
            continue
        for name in re.findall(r"(?:self|super\(\))\.(_[a-z][a-z_]*)\b", text):
            if name in own or name.startswith("_tapkit") or name in _defined_in(text):
                continue
            assert name in listed, f"{path.name} uses {name}: list it in tapkit.sdk_private"


def _defined_in(text: str) -> set[str]:
    return (
        set(re.findall(r"def (_[a-z][a-z_]*)\(", text))
        | set(re.findall(r"self\.(_[a-z][a-z_]*)\s*(?::[^=]*)?=", text))
        | set(re.findall(r"^\s+(_[a-z][a-z_]*)\s*:", text, re.M))
    )
