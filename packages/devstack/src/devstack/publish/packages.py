"""Build, check and upload the published packages: each plugin and the library it needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from devstack.publish.definitions import PublishError

# Built and uploaded together: taps depend on tapkit by version range.
PACKAGE_DIRS = (
    "packages/tapkit",
    "taps/tap-klaviyo",
    "taps/tap-shopify",
    "taps/tap-onetrust",
    "taps/tap-pinterest-ads",
    "taps/tap-bigquery",
    # devstack new-source: source packages above
    "targets/target-postgres",
    "targets/target-lake",
)


def _run(command: list[str], what: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PublishError(f"{what} failed:\n{(done.stdout + done.stderr).strip()[-2000:]}")
    return done.stdout


def build(root: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    for directory in PACKAGE_DIRS:
        _run(
            ["uv", "build", "--quiet", "--out-dir", str(out), str(root / directory)],
            f"building {directory}",
        )
    return sorted(p for p in out.iterdir() if p.name.endswith((".whl", ".tar.gz")))


def check(files: list[Path]) -> None:
    _run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)], "twine check")


def upload(files: list[Path], index_url: str) -> None:
    # twine reads TWINE_USERNAME/TWINE_PASSWORD (e.g. __token__ and a PyPI token) itself; a local
    # pypiserver started with `-a . -P .` takes any, and twine must not stop to ask for them.
    credentials = (
        [] if os.environ.get("TWINE_PASSWORD") else ["--username", "local", "--password", "local"]
    )
    _run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--repository-url",
            index_url,
            *credentials,
            *map(str, files),
        ],
        f"uploading to {index_url}",
    )
