"""Fixtures for the project tests: a private embedded Postgres, `meltano install` once, and a
fresh pipeline (databases + Klaviyo sandbox, and a Shopify sandbox for `shop_project`) per test."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import postgres
from devstack.testing import MELTANO, Project
from sandbox.klaviyo.sandbox import KlaviyoSandbox
from sandbox.shopify.sandbox import ShopifySandbox

ROOT = Path(__file__).resolve().parents[1]
_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres.Embedded]:
    data_dir = tmp_path_factory.mktemp("pg") / "data"
    embedded = postgres.start(data_dir, databases=())
    yield embedded
    postgres.stop(data_dir)


@pytest.fixture(scope="session")
def installed(pg: postgres.Embedded) -> None:
    """`meltano install` once per session (plugin venvs land in this project's .meltano/)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_"))}
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
    n = next(_names)
    database = f"data_{n}"
    postgres.create_databases(pg, (database,))
    with KlaviyoSandbox(seed=12, profiles=300, events=2_500, rate_limits=False) as sandbox:
        yield Project(ROOT, pg, sandbox, database)


@pytest.fixture
def shop_project(project: Project) -> Iterator[Project]:
    """The pipeline with a Shopify sandbox too: a standard shop's bucket (40, leaking 20/s as
    the dev config expects of a Plus shop), three customers in five also Klaviyo profiles."""
    with ShopifySandbox(
        seed=12, orders=240, leak_per_second=20, klaviyo_seed=12, klaviyo_profiles=300
    ) as shop:
        project.shopify = shop
        yield project
