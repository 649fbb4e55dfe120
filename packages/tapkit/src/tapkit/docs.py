"""A tap's README tables, generated from the code: the streams from their declarations, the
settings from ``--about``.  A tap's ``scripts/generate_readme.py`` builds its stream table and
calls ``main``; ``--check`` (run by the tests) fails when the README is out of date.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


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


def main(readme: Path, blocks: Callable[[], dict[str, str]], argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the README's tables from the code.")
    parser.add_argument("--check", action="store_true", help="fail if the README is out of date")
    args = parser.parse_args(argv)
    current = readme.read_text()
    updated = fill(current, blocks())
    if args.check:
        if updated != current:
            raise SystemExit(f"{readme} is out of date: run {sys.argv[0]}")
        return
    readme.write_text(updated)
    print(f"updated {readme}")
