"""``devstack new-source``: write a source's files and entries, then the generated parts
(lock, README tables, plugin definitions); on any failure put every file back as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from devstack.scaffold import render, wiring
from devstack.scaffold.spec import SourceSpec


class ScaffoldError(RuntimeError):
    """The source was not added; the message says why, and nothing was left behind."""


def taken(root: Path, spec: SourceSpec) -> list[str]:
    """What already holds the source's names."""
    places = [
        root / "taps" / spec.tap,
        root / "packages" / "sandbox" / "src" / "sandbox" / spec.ident,
        root / "transform" / "models" / "staging" / spec.ident,
    ]
    found = [str(p.relative_to(root)) for p in places if p.exists()]
    for path in ("meltano.yml", "plugins/extractors.meltano.yml"):
        if f"name: {spec.tap}\n" in (root / path).read_text():
            found.append(f"{path} ({spec.tap})")
    return found


def new_source(root: Path, spec: SourceSpec, *, quiet: bool = False) -> list[str]:
    """Add the source to the project at ``root``; the paths written, new ones first."""
    if clash := taken(root, spec):
        raise ScaffoldError(f"NAME: {spec.name!r} exists already: {', '.join(clash)}")
    created = render.files(spec)
    created[f"plugins/definitions/logos/{spec.name}.svg"] = logo(spec)
    changed = wiring.edits(root, spec)
    generated = [
        "uv.lock",
        "plugins/extractors.meltano.yml",
        f"plugins/definitions/extractors/{spec.tap}--tapworks.yml",
    ]
    before = {p: (root / p).read_text() for p in [*changed, *generated] if (root / p).exists()}
    new_dirs = _missing_dirs(root, created)
    try:
        for path, text in {**created, **changed}.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        python = [p for p in [*created, *changed] if p.endswith(".py")]
        steps = [
            [*_uv(root), "run", "--no-sync", "ruff", "check", "--fix", "--quiet", *python],
            [*_uv(root), "run", "--no-sync", "ruff", "format", "--quiet", *python],
            [*_uv(root), "lock", "--quiet"],
            [*_uv(root), "sync", "--all-packages", "--locked", "--quiet"],
            [*_uv(root), "run", "--no-sync", "python", "-m", "tapkit.docs", spec.module],
            [*_uv(root), "run", "--no-sync", "python", "-m", "devstack.cli", "definitions"],
        ]
        for step in steps:
            _run(root, step, quiet=quiet)
    except (OSError, subprocess.SubprocessError, ScaffoldError) as exc:
        _restore(root, created, before, new_dirs, generated)
        raise ScaffoldError(
            f"{spec.tap} was not added, and every file is as it was: {exc}"
        ) from exc
    return [*created, *changed]


def logo(spec: SourceSpec) -> str:
    """A placeholder for the hub page: the label's initial; replace it with the vendor's."""
    initial = spec.label[:1].upper()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        '<rect width="64" height="64" rx="12" fill="#3b4a6b"/>'
        '<text x="32" y="43" font-family="sans-serif" font-size="32" text-anchor="middle" '
        f'fill="#ffffff">{initial}</text></svg>\n'
    )


def _uv(root: Path) -> list[str]:
    """The uv that runs this project: ``$UV`` (set by ``uv run``), then PATH, then .tools/."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(root / ".tools/bin/uv")):
        if candidate and Path(candidate).exists():
            return [candidate]
    raise ScaffoldError("no uv found (PATH, $UV or .tools/bin/uv); run ./run tests once first")


def _run(root: Path, command: list[str], *, quiet: bool) -> None:
    parts = [Path(command[0]).name, *command[1:]]
    shown = " ".join(parts[:7]) + (" ..." if len(parts) > 7 else "")
    if not quiet:
        print(f"new-source: {shown}", file=sys.stderr)
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-3000:]
        raise ScaffoldError(f"`{shown}` failed:\n{output}")


def _missing_dirs(root: Path, files: dict[str, str]) -> list[Path]:
    """The folders writing ``files`` creates, deepest first (removed again on failure)."""
    missing: set[Path] = set()
    for path in files:
        for parent in (root / path).parents:
            if parent == root or parent.exists():
                break
            missing.add(parent)
    return sorted(missing, key=lambda p: len(p.parts), reverse=True)


def _restore(
    root: Path,
    created: dict[str, str],
    before: dict[str, str],
    new_dirs: list[Path],
    generated: list[str],
) -> None:
    for path in [*created, *generated]:
        if path not in before:
            (root / path).unlink(missing_ok=True)
    for path, text in before.items():
        (root / path).write_text(text)
    for folder in new_dirs:
        if folder.exists():
            shutil.rmtree(folder)
    # the environment back to the restored lock (the new tap uninstalled), if uv is there
    try:
        uv = _uv(root)
    except ScaffoldError:
        return
    subprocess.run(
        [*uv, "sync", "--all-packages", "--locked", "--quiet"],
        cwd=root,
        capture_output=True,
        check=False,
    )
