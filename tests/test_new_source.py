"""`devstack new-source` end to end, one source per template, in a copy of this project: the
copy passes the checks `./run tests` makes of what the sources add (lint, types, their tests,
the emulators' contracts, the dbt docs rules, .env.example, the plugin definitions), and
`meltano run tap-NAME target-postgres dbt-postgres:build` loads each emulator's data into
Postgres row by row, a second run what changed since; an error leaves the copy as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest

from devstack import postgres
from devstack.testing import MELTANO, clean_env
from sandbox.core.control import SandboxControl
from tapkit.timeformats import canonical_instant

ROOT = Path(__file__).resolve().parents[1]
# This folder's conftest (pytest imports it under its own name): its databases.
conftest = next(
    m for n, m in sys.modules.items() if n.endswith("conftest") and hasattr(m, "new_database")
)
#: name -> (flags, objects): each template, and a few answers that are not the defaults.
SOURCES: dict[str, tuple[list[str], list[str]]] = {
    "acme-billing": (
        ["--template", "rest", "--time-format", "epoch_seconds", "--filter-exclusive",
         "--object", "invoices:amount=number,status=string,paid=boolean", "--object", "customers"],
        ["invoices", "customers"],
    ),
    "zenith-desk": (["--template", "backfill"], ["tickets"]),
    "lakehouse": (
        ["--template", "warehouse", "--object", "orders:total=number,placed_at=timestamp"],
        ["orders"],
    ),
}  # fmt: skip


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "no uv: run the tests with ./run tests (uv run)"
    return found


def run(
    command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env or clean_env("UV_PROJECT_ENVIRONMENT", "VIRTUAL_ENV"),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def project_files(root: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [path for path in listed.split("\0") if path and (root / path).is_file()]


def snapshot(root: Path) -> dict[str, str]:
    """Every project file's digest (what git would see)."""
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in project_files(root)}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this project (its own .venv) with the three sources scaffolded."""
    root = tmp_path_factory.mktemp("new-source") / "project"
    for path in project_files(ROOT):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, root / path)
    run(["git", "init", "-q"], root)  # project_files() lists the copy's files too
    run([uv(), "sync", "--all-packages", "--locked", "--quiet"], root)
    for name, (flags, _) in SOURCES.items():
        run([str(root / ".venv" / "bin" / "devstack"), "new-source", name, *flags], root)
    return root


def test_the_scaffolded_project_passes_the_checks_of_its_new_parts(copy: Path) -> None:
    tool = [uv(), "run", "--no-sync"]
    run([*tool, "ruff", "check", "."], copy)
    run([*tool, "ruff", "format", "--check", "."], copy)
    run([*tool, "mypy"], copy)
    taps = [f"taps/tap-{name}/tests" for name in SOURCES]
    for folder in [*taps, "packages/sandbox/tests"]:
        run([*tool, "mypy", folder], copy)
    run([*tool, "devstack", "definitions", "--check"], copy)
    contracts = [f"packages/sandbox/tests/test_{n.replace('-', '_')}_contract.py" for n in SOURCES]
    output = run(
        [*tool, "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
         "--basetemp", str(copy.parent / "pytest"), *taps, *contracts,
         "tests/test_dbt_docs.py",
         "tests/test_env_example.py::test_only_required_lines_are_left_to_fill_in_and_each_is_a_setting"],
        copy,
    )  # fmt: skip
    assert " passed" in output


def test_a_name_that_exists_or_a_failed_step_leaves_every_file_as_it_was(copy: Path) -> None:
    devstack = str(copy / ".venv" / "bin" / "devstack")
    before = snapshot(copy)
    refused = subprocess.run(
        [devstack, "new-source", "zenith-desk", "--template", "rest"],
        cwd=copy, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "NAME: 'zenith-desk' exists already: taps/tap-zenith-desk" in refused.stderr
    # no uv to run the generated steps with: every file is written, then put back
    env = {**clean_env("UV"), "PATH": "/usr/bin:/bin"}
    failed = subprocess.run(
        [devstack, "new-source", "orbit", "--template", "rest"],
        cwd=copy, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failed.returncode != 0
    assert "tap-orbit was not added, and every file is as it was: no uv found" in failed.stderr
    assert snapshot(copy) == before
    assert not (copy / "taps" / "tap-orbit").exists()
    assert not (copy / "packages" / "sandbox" / "src" / "sandbox" / "orbit").exists()


@dataclass
class Emulator:
    url: str  # what the tap's api_url takes
    control: SandboxControl


@pytest.fixture(scope="module")
def installed_copy(copy: Path, pg: postgres.Embedded, installed: None) -> Path:
    """The copy with the new taps installed by Meltano; the loader and dbt are this project's
    installs (the same pip_url), linked rather than installed again."""
    for plugin_type, name in (("loaders", "target-postgres"), ("utilities", "dbt-postgres")):
        (copy / ".meltano" / plugin_type).mkdir(parents=True, exist_ok=True)
        (copy / ".meltano" / plugin_type / name).symlink_to(ROOT / ".meltano" / plugin_type / name)
    postgres.create_databases(pg, ("new_source_install",))
    env = {**clean_env(), "MELTANO_DATABASE_URI": pg.meltano_url("new_source_install")}
    taps = [f"tap-{name}" for name in SOURCES]
    run([MELTANO, "install", "--plugin-type", "extractors", *taps], copy, env)
    return copy


@pytest.fixture
def emulator(installed_copy: Path, source: str) -> Iterator[Emulator]:
    """The source's emulator as `devstack up` starts it: its own process, the dev seed."""
    python = str(installed_copy / ".venv" / "bin" / "python")
    module = f"sandbox.{source.replace('-', '_')}"
    process = subprocess.Popen(
        [python, "-m", module, "--port", "0", "--seed", "7"],
        cwd=installed_copy, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    try:
        assert url.startswith("http"), f"{module} did not start"
        yield Emulator(url, SandboxControl(urlparse(url)._replace(path="").geturl()))
    finally:
        process.terminate()
        process.wait(timeout=10)


def instant(value: Any) -> str:
    if isinstance(value, int):
        return canonical_instant(datetime.fromtimestamp(value, UTC))
    if isinstance(value, datetime):
        return canonical_instant(value)
    return canonical_instant(str(value))


def loaded(url: str, schema: str, table: str) -> dict[str, str]:
    """id -> updated_at (canonical) of a raw table; fails on a duplicate id."""
    with psycopg.connect(url) as connection:
        rows = list(connection.execute(f'select id, updated_at from {schema}."{table}"'.encode()))
    found = {str(row[0]): instant(row[1]) for row in rows}
    assert len(found) == len(rows), f"{schema}.{table}: an id is loaded twice"
    return found


def truth(emulator: Emulator, table: str) -> dict[str, str]:
    return {str(r["id"]): instant(r["updated_at"]) for r in emulator.control.truth(table)}


@pytest.mark.parametrize("source", list(SOURCES))
def test_meltano_run_loads_the_emulators_data_and_then_what_changed(
    installed_copy: Path, pg: postgres.Embedded, emulator: Emulator, source: str
) -> None:
    ident, tables = source.replace("-", "_"), SOURCES[source][1]
    database = conftest.new_database(pg)
    env = {
        **clean_env(),
        f"TAPWORKS_{ident.upper()}_URL": emulator.url,
        "TAPWORKS_PG_HOST": str(pg.socket_dir),
        "MELTANO_DATABASE_URI": pg.meltano_url(database),
        "TARGET_POSTGRES_SQLALCHEMY_URL": pg.url(database),
        "DBT_POSTGRES_DBNAME": database,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    # the acceptance's command for the first source (every model, the other sources' empty);
    # the source's own job step for the others
    build = (
        "dbt-postgres:build" if source == next(iter(SOURCES)) else f"dbt-postgres:build-{source}"
    )
    output = run([MELTANO, "run", f"tap-{source}", "target-postgres", build], installed_copy, env)
    assert "ERROR=0" in output
    url = pg.url(database, driver="postgresql")
    schema = f"tap_{ident}"
    for table in tables:
        assert loaded(url, schema, table) == truth(emulator, table)
        with psycopg.connect(url) as connection:
            (staged,) = connection.execute(
                f"select count(*) from analytics_staging.stg_{ident}__{table}".encode()
            ).fetchone() or (0,)
        assert staged == len(truth(emulator, table))
    # changes and new records since: the next run (from the saved state) brings them, once each
    changed = emulator.control.update(tables[0], count=4)
    created = emulator.control.create(tables[0], count=2)
    output = run([MELTANO, "run", f"tap-{source}", "target-postgres"], installed_copy, env)
    after = loaded(url, schema, tables[0])
    assert after == truth(emulator, tables[0])
    assert set(created) <= set(after)
    assert all(after[str(i)] == truth(emulator, tables[0])[str(i)] for i in changed)
