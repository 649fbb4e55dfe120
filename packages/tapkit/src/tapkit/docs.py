"""A tap's README tables, generated from the code: the streams from their declarations alone
(keys, incremental contract, windows, partitions, rate limits, concurrency), the settings from
``--about``.  One command for every tap; ``--check`` (run by the tests) fails when the README
is out of date:

    uv run python -m tapkit.docs tap_klaviyo [--check]
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tapkit.stream import EngineStream
from tapkit.tap import PoliteTap


def stream_table(tap_class: type[PoliteTap]) -> str:
    """One row per stream, from the stream classes' declarations."""
    streams = [s for s in tap_class.stream_classes if issubclass(s, EngineStream)]
    fixed = any(getattr(s, "fixed_params", None) for s in streams)
    head = [
        "Stream",
        "Endpoint",
        "Primary key",
        "Replication key",
        "API filter (format)",
        "Windows",
        "Partitions",
        "Rate limit",
        "Concurrency",
    ] + (["Fixed parameters"] if fixed else [])
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    concurrency = _default(tap_class, "max_concurrent_requests")
    for stream in streams:
        cells = [
            f"`{_declared(stream, 'name')}`",
            f"`{_method(stream)} {tap_class.endpoint_prefix}{_declared(stream, 'path')}`",
            ", ".join(f"`{k}`" for k in _declared(stream, "primary_keys")),
            *_contract_cells(stream),
            _partitions(stream),
            _rate_limits(stream),
            _concurrency(stream, concurrency),
        ]
        if fixed:
            params = getattr(stream, "fixed_params", {})
            cells.append(", ".join(f"`{k}={v}`" for k, v in params.items()) or "—")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _declared(stream: type[Any], attribute: str) -> Any:
    """A class-level declaration (singer-sdk types these as instance attributes)."""
    return getattr(stream, attribute)


def _method(stream: type[Any]) -> str:
    """The HTTP method a stream class declares (singer-sdk's default is a property: GET)."""
    for klass in stream.__mro__:
        declared = klass.__dict__.get("http_method")
        if isinstance(declared, str):
            return declared
    return "GET"


def _contract_cells(stream: type[EngineStream]) -> list[str]:
    contract = stream.incremental
    parent = stream.parent_stream_type
    if stream.derived_from:
        return ["—", f"none: read from {stream.derived_from}", "—"]
    if contract is None:
        what = "none: every record of each parent read" if parent else "none: read whole"
        return ["—", what, "—"]
    text = contract.describe()
    if stream.lookback_setting:
        setting, default = stream.lookback_setting
        text += f"; lookback `{setting}` (default {default})"
    if contract.sorted:
        text += "; sorted by the key"
    windows = "—"
    if contract.api_filter and contract.api_filter.bounded:
        windows = contract.windows.describe()
    elif contract.historical_filter and contract.historical_filter.bounded:
        windows = f"{contract.windows.describe()} (first load only)"
    return [f"`{contract.replication_key}` ({contract.key.describe()})", text, windows]


def _partitions(stream: type[EngineStream]) -> str:
    parts = []
    if stream.parent_stream_type is not None:
        parts.append(f"per `{_declared(stream.parent_stream_type, 'name')}` record")
    if stream.partitioned_by:
        parts.append("by " + " x ".join(f"`{k}`" for k in stream.partitioned_by))
    return "; ".join(parts) or "—"


def _rate_limits(stream: type[Any]) -> str:
    limits = getattr(stream, "rate_limits", ())
    text = " · ".join(limits) if isinstance(limits, tuple) else ""
    for variant, other in getattr(stream, "rate_limit_variants", {}).items():
        text += f" ({' · '.join(other)} {variant})"
    return text or getattr(stream, "rate_limit_description", "") or "—"


def _concurrency(stream: type[EngineStream], default: Any) -> str:
    contract = stream.incremental
    if stream.derived_from or stream.parent_stream_type is not None:
        return "1 (with each parent record)"
    if contract is None or contract.api_filter is None or not contract.api_filter.bounded:
        if contract is not None and contract.historical_filter is not None:
            return f"first load: windows, up to `max_concurrent_requests` ({default}); then 1 (one range)"
        return "1 (one range)"
    if contract.sorted:
        return f"windows or slices, up to `max_concurrent_requests` ({default})"
    if contract.windows.every is None and contract.historical_filter is None:
        return "1 (one range; windows with `backfill_window_days`)"
    return f"windows, up to `max_concurrent_requests` ({default})"


def _default(tap_class: type[PoliteTap], setting: str) -> Any:
    return tap_class.config_jsonschema["properties"].get(setting, {}).get("default")


def settings_table(module: str) -> str:
    """The settings table of ``python -m <module> --about --format=markdown``."""
    about = subprocess.run(
        [sys.executable, "-m", module, "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return about.split("## Settings", 1)[1].split("\n## ", 1)[0].strip()


def fill(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each ``<!-- name:start -->`` ... ``<!-- name:end -->`` block replaced."""
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(
                f"the README has no <!-- {name}:start --> ... <!-- {name}:end --> block"
            )
        text = pattern.sub(_filler(body), text)
    return text


def _filler(body: str) -> Callable[[re.Match[str]], str]:
    return lambda found: found.group(1) + body + "\n" + found.group(2)


def tap_of(module: str) -> type[PoliteTap]:
    """The ``PoliteTap`` subclass a tap package defines in ``<module>.tap``."""
    found = vars(importlib.import_module(f"{module}.tap"))
    taps = [v for v in found.values() if isinstance(v, type) and issubclass(v, PoliteTap)]
    return next(t for t in taps if t is not PoliteTap and t.__module__ == f"{module}.tap")


def readme_of(module: str) -> Path:
    """The README beside the package (``taps/tap-x/README.md`` for ``tap_x``)."""
    package = importlib.import_module(module)
    return Path(str(package.__file__)).resolve().parents[1] / "README.md"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate a tap's README tables from the code.")
    parser.add_argument("module", help="the tap's package, e.g. tap_klaviyo")
    parser.add_argument("--check", action="store_true", help="fail if the README is out of date")
    args = parser.parse_args(argv)
    readme = readme_of(args.module)
    current = readme.read_text()
    blocks = {"streams": stream_table(tap_of(args.module)), "settings": settings_table(args.module)}
    updated = fill(current, blocks)
    if args.check:
        if updated != current:
            raise SystemExit(f"{readme} is out of date: run python -m tapkit.docs {args.module}")
        return
    readme.write_text(updated)
    print(f"updated {readme}")


if __name__ == "__main__":
    main()
