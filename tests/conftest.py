"""Fixtures for the project tests: a private embedded Postgres, `meltano install` once, and a
pipeline per test (databases + Klaviyo sandbox, and a Shopify sandbox for the shop fixtures).

A pipeline starts empty (`project`, `shop_project`) or loaded (`loaded_project`,
`loaded_shop_project`): a copy of a database the session loaded once (`built_project`,
`built_shop_project`), with new sandboxes holding the same data (same seeds, same end of
history). A test that only reads may use the built ones themselves; none may change them."""

from __future__ import annotations

import fcntl
import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from xdist.scheduler import LoadScopeScheduling

from devstack import postgres
from devstack.testing import MELTANO, Project, clean_env
from sandbox.core.clock import format_instant, start_of_today
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.shopify.sandbox import ShopifySandbox

ROOT = Path(__file__).resolve().parents[1]
#: Where every sandbox's history ends this session (not each one's own "today": a copy must
#: match the sandbox its template was loaded from, even past midnight).
NOW = format_instant(start_of_today())
_names = itertools.count(1)


def klaviyo_sandbox() -> KlaviyoSandbox:
    return KlaviyoSandbox(seed=12, profiles=300, events=2_500, rate_limits=False, now=NOW)


def shopify_sandbox() -> ShopifySandbox:
    """A standard shop's bucket (40, leaking 20/s as the dev config expects of a Plus shop),
    three customers in five also Klaviyo profiles."""
    return ShopifySandbox(
        seed=12, orders=240, leak_per_second=20, klaviyo_seed=12, klaviyo_profiles=300, now=NOW
    )


def new_database(pg: postgres.Embedded, template: str | None = None) -> str:
    """A database of its own, empty or a copy of ``template`` (which nobody may be using)."""
    database = f"data_{next(_names)}"
    if template is None:
        postgres.create_databases(pg, (database,))
        return database
    with psycopg.connect(pg.url("postgres", driver="postgresql"), autocommit=True) as connection:
        connection.execute(f'create database "{database}" template "{template}"'.encode())
    return database


def load_and_build(project: Project, tap: str) -> None:
    result = project.meltano("run", tap, "target-postgres", "dbt-postgres:build")
    assert result.returncode == 0, result.output[-4000:]
    assert "ERROR=0" in result.output


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres.Embedded]:
    data_dir = tmp_path_factory.mktemp("pg") / "data"
    embedded = postgres.start(data_dir, databases=())
    yield embedded
    postgres.stop(data_dir)


@pytest.fixture(scope="session")
def installed(pg: postgres.Embedded) -> None:
    """`meltano install` once per session (plugin venvs land in this project's .meltano/):
    under pytest-xdist once per run, by whichever worker asks first, the others waiting."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    (ROOT / ".meltano").mkdir(exist_ok=True)
    with (ROOT / ".meltano" / "tests-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = ROOT / ".meltano" / "tests-installed-by"
        if not (run_id and marker.exists() and marker.read_text() == run_id):
            meltano_install(pg)
            marker.write_text(run_id or "")


def meltano_install(pg: postgres.Embedded) -> None:
    """`meltano install` into this project (its system database on ``pg``)."""
    env = clean_env()
    env["TAPWORKS_PG_HOST"] = str(pg.socket_dir)
    postgres.create_databases(pg, ("install_check",))
    env["MELTANO_DATABASE_URI"] = pg.meltano_url("install_check")
    done = subprocess.run(
        [MELTANO, "install"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture
def project(pg: postgres.Embedded, installed: None) -> Iterator[Project]:
    with klaviyo_sandbox() as sandbox:
        yield Project(ROOT, pg, sandbox, new_database(pg))


@pytest.fixture
def shop_project(project: Project) -> Iterator[Project]:
    """The pipeline with a Shopify sandbox too."""
    with shopify_sandbox() as shop:
        project.shopify = shop
        yield project


@pytest.fixture(scope="session")
def built_project(pg: postgres.Embedded, installed: None) -> Iterator[Project]:
    """Read only: a fresh pipeline after `meltano run tap-klaviyo target-postgres
    dbt-postgres:build` (Klaviyo loaded, every model built, the Shopify ones empty)."""
    with klaviyo_sandbox() as sandbox:
        built = Project(ROOT, pg, sandbox, new_database(pg))
        load_and_build(built, "tap-klaviyo")
        yield built


@pytest.fixture(scope="session")
def built_shop_project(built_project: Project) -> Iterator[Project]:
    """Read only: a copy of `built_project` after `meltano run tap-shopify target-postgres
    dbt-postgres:build`, on `built_project`'s Klaviyo sandbox (nothing changes it)."""
    pg = built_project.pg
    with shopify_sandbox() as shop:
        database = new_database(pg, template=built_project.database)
        built = Project(ROOT, pg, built_project.sandbox, database, shopify=shop)
        load_and_build(built, "tap-shopify")
        yield built


@pytest.fixture
def loaded_project(built_project: Project) -> Iterator[Project]:
    """A pipeline of its own as `built_project` is: a copy of its database (data, state,
    models, Meltano's runs) and a new sandbox with the same data (no requests logged yet)."""
    pg = built_project.pg
    with klaviyo_sandbox() as sandbox:
        yield Project(ROOT, pg, sandbox, new_database(pg, template=built_project.database))


@pytest.fixture
def loaded_shop_project(built_shop_project: Project) -> Iterator[Project]:
    """A pipeline of its own as `built_shop_project` is, with new sandboxes of the same data."""
    pg = built_shop_project.pg
    with klaviyo_sandbox() as sandbox, shopify_sandbox() as shop:
        database = new_database(pg, template=built_shop_project.database)
        yield Project(ROOT, pg, sandbox, database, shopify=shop)


#: Project tests that use no Meltano command in this project, no dbt and no loaded project
#: (plugins' executables, a project of their own, files): any worker may run them.
ON_ANY_WORKER = (
    "tests/test_bench.py",
    "tests/test_dbt_docs.py",
    "tests/test_loaders.py",
    "tests/test_new_source.py",
    "tests/test_publishing.py",
    "tests/test_target_recovery.py",
)


class ProjectTestsTogether(LoadScopeScheduling):
    """pytest-xdist's scheduling for ``./run tests``: the project tests (these, sharing the
    project's .meltano/run files, dbt's target folders and the session's loaded projects) are
    one unit of work, so one worker runs them all, in order, while the others take the
    package tests (and ON_ANY_WORKER) one by one. The largest unit is sent first, so the
    project tests start at once."""

    def _split_scope(self, nodeid: str) -> str:
        together = nodeid.startswith("tests/") and not nodeid.startswith(ON_ANY_WORKER)
        return "project" if together else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> ProjectTestsTogether:
    return ProjectTestsTogether(config, log)
