"""A managed block in the project's ``.env``: ``up`` records where things are; nothing else changes."""

from __future__ import annotations

from pathlib import Path

START = "# >>> devstack (written by `devstack up`; edit outside this block) >>>"
END = "# <<< devstack <<<"


def read(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env file (comments and blank lines skipped, quotes stripped)."""
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def write_block(path: Path, values: dict[str, str]) -> None:
    lines = path.read_text().splitlines() if path.exists() else []
    if START in lines and END in lines:
        lines = lines[: lines.index(START)] + lines[lines.index(END) + 1 :]
    while lines and not lines[-1].strip():
        lines.pop()
    block = [START, *(f"{key}={value}" for key, value in values.items()), END]
    path.write_text("\n".join([*lines, "", *block] if lines else block) + "\n")
