"""The plugins this project publishes, and what the code alone cannot say about them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

PROJECT_URL = "https://github.com/tapworks/tapworks"
MAINTAINER = {"label": "tapworks", "name": "tapworks", "url": PROJECT_URL}


@dataclass(frozen=True)
class Plugin:
    type: str  # extractors | loaders | utilities ...
    name: str
    variant: str
    namespace: str
    label: str
    #: The package on the index, and the hub's pip_url as it is: hub entries are unpinned
    #: (a project pins a version in its own pip_url or lock), as MeltanoHub's are.
    distribution: str
    about_command: tuple[str, ...]
    project_pip_url: str  # how this project installs it (meltano.yml)
    domain_url: str
    keywords: tuple[str, ...]
    logo: str  # file under plugins/definitions/logos/
    docs: str
    repo: str
    quality: str = "silver"
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. dialect, target_schema
    # Defaults this project recommends, written as the settings' values in the definition.
    values: dict[str, Any] = field(default_factory=dict)
    # Configuration the project adds in its own meltano.yml fragment (not in the hub definition).
    project_config: dict[str, Any] = field(default_factory=dict)
    project_comment: str = ""
    #: The plugin's name in this project, when two variants of one plugin are declared.
    project_name: str = ""


PLUGINS = (
    Plugin(
        type="extractors",
        name="tap-klaviyo",
        variant="tapworks",
        namespace="tap_klaviyo",
        label="Klaviyo",
        distribution="tapworks-tap-klaviyo",
        about_command=(sys.executable, "-m", "tap_klaviyo", "--about", "--format=json"),
        project_pip_url="-e ./packages/tapkit -e ./taps/tap-klaviyo",
        domain_url="https://www.klaviyo.com",
        keywords=("api", "meltano_sdk", "email", "marketing"),
        logo="klaviyo.svg",
        docs=f"{PROJECT_URL}/tree/main/taps/tap-klaviyo#readme",
        repo=PROJECT_URL,
    ),
    Plugin(
        type="extractors",
        name="tap-shopify",
        variant="tapworks",
        namespace="tap_shopify",
        label="Shopify",
        distribution="tapworks-tap-shopify",
        about_command=(sys.executable, "-m", "tap_shopify", "--about", "--format=json"),
        project_pip_url="-e ./packages/tapkit -e ./taps/tap-shopify",
        domain_url="https://www.shopify.com",
        keywords=("api", "meltano_sdk", "ecommerce"),
        logo="shopify.svg",
        docs=f"{PROJECT_URL}/tree/main/taps/tap-shopify#readme",
        repo=PROJECT_URL,
    ),
    Plugin(
        type="extractors",
        name="tap-onetrust",
        variant="tapworks",
        namespace="tap_onetrust",
        label="OneTrust",
        distribution="tapworks-tap-onetrust",
        about_command=(sys.executable, "-m", "tap_onetrust", "--about", "--format=json"),
        project_pip_url="-e ./packages/tapkit -e ./taps/tap-onetrust",
        domain_url="https://www.onetrust.com",
        keywords=("api", "meltano_sdk", "privacy", "consent"),
        logo="onetrust.svg",
        docs=f"{PROJECT_URL}/tree/main/taps/tap-onetrust#readme",
        repo=PROJECT_URL,
    ),
    Plugin(
        type="extractors",
        name="tap-pinterest-ads",
        variant="tapworks",
        namespace="tap_pinterest_ads",
        label="Pinterest Ads",
        distribution="tapworks-tap-pinterest-ads",
        about_command=(sys.executable, "-m", "tap_pinterest_ads", "--about", "--format=json"),
        project_pip_url="-e ./packages/tapkit -e ./taps/tap-pinterest-ads",
        domain_url="https://ads.pinterest.com",
        keywords=("api", "meltano_sdk", "advertising", "marketing"),
        logo="pinterest.svg",
        docs=f"{PROJECT_URL}/tree/main/taps/tap-pinterest-ads#readme",
        repo=PROJECT_URL,
    ),
    Plugin(
        type="extractors",
        name="tap-bigquery",
        variant="tapworks",
        namespace="tap_bigquery",
        label="Google BigQuery",
        distribution="tapworks-tap-bigquery",
        about_command=(sys.executable, "-m", "tap_bigquery", "--about", "--format=json"),
        project_pip_url="-e ./packages/tapkit -e ./taps/tap-bigquery",
        domain_url="https://cloud.google.com/bigquery",
        keywords=("database", "meltano_sdk", "warehouse", "google"),
        logo="bigquery.svg",
        docs=f"{PROJECT_URL}/tree/main/taps/tap-bigquery#readme",
        repo=PROJECT_URL,
    ),
    # devstack new-source: source plugins above
    Plugin(
        type="extractors",
        name="tap-lake",
        variant="tapworks",
        namespace="tap_lake",
        label="Lake replay",
        distribution="tapworks-target-lake",
        about_command=(
            sys.executable,
            "-c",
            "from target_lake.replay import TapLake; TapLake.cli()",
            "--about",
            "--format=json",
        ),
        project_pip_url="-e ./targets/target-lake",
        domain_url="https://github.com/tapworks/tapworks/tree/main/targets/target-lake",
        keywords=("file", "meltano_sdk", "lake", "replay"),
        logo="lake.svg",
        docs=f"{PROJECT_URL}/tree/main/targets/target-lake#tap-lake",
        repo=PROJECT_URL,
    ),
    Plugin(
        type="loaders",
        name="target-lake",
        variant="tapworks",
        namespace="target_lake",
        label="Lake (Parquet or JSON Lines, local or S3)",
        distribution="tapworks-target-lake",
        about_command=(sys.executable, "-m", "target_lake", "--about", "--format=json"),
        project_pip_url="-e ./targets/target-lake",
        domain_url="https://github.com/tapworks/tapworks/tree/main/targets/target-lake",
        keywords=("file", "meltano_sdk", "lake", "s3", "parquet"),
        logo="lake.svg",
        docs=f"{PROJECT_URL}/tree/main/targets/target-lake#readme",
        repo=PROJECT_URL,
        values={
            # each tap's files under <root>/<tap>/: Meltano names the extractor to the loader
            "tap": "$MELTANO_EXTRACTOR_NAME",
        },
    ),
    Plugin(
        type="loaders",
        name="target-postgres",
        variant="tapworks",
        namespace="target_postgres",
        label="Postgres",
        distribution="tapworks-target-postgres",
        about_command=(sys.executable, "-m", "target_postgres", "--about", "--format=json"),
        project_pip_url="-e ./targets/target-postgres",
        domain_url="https://www.postgresql.org",
        keywords=("database", "meltano_sdk", "postgres"),
        logo="postgres.svg",
        docs=f"{PROJECT_URL}/tree/main/targets/target-postgres#readme",
        repo=PROJECT_URL,
        extra={"dialect": "postgres", "target_schema": "$TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"},
        values={
            # a schema per tap: tap_klaviyo, tap_shopify, ...
            "default_target_schema": "$MELTANO_EXTRACT__LOAD_SCHEMA",
        },
    ),
    Plugin(
        type="loaders",
        name="target-postgres",
        variant="meltanolabs",
        project_name="target-postgres-meltanolabs",
        project_comment=(
            "target-postgres-meltanolabs, the alternative loader: its tables hold date-times\n"
            "without time zone, and it cannot store NUL inside objects: set the tap's\n"
            "replace_nul_characters when you use it."
        ),
        namespace="target_postgres",
        label="Postgres",
        distribution="meltanolabs-target-postgres",
        about_command=(
            "uv",
            "tool",
            "run",
            "--quiet",
            "--from",
            "meltanolabs-target-postgres==0.8.1",
            "target-postgres",
            "--about",
            "--format=json",
        ),
        project_pip_url="meltanolabs-target-postgres==0.8.1",
        domain_url="https://www.postgresql.org",
        keywords=("database", "meltano_sdk", "postgres"),
        logo="postgres.svg",
        docs="https://github.com/MeltanoLabs/target-postgres#readme",
        repo="https://github.com/MeltanoLabs/target-postgres",
        extra={"dialect": "postgres", "target_schema": "$TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"},
        values={
            # a schema per tap: tap_klaviyo, tap_shopify, ...
            "default_target_schema": "$MELTANO_EXTRACT__LOAD_SCHEMA",
            # COPY instead of INSERT: several times faster
            "use_copy": True,
            "add_record_metadata": True,
            # the sources send NUL characters; Postgres text cannot hold them
            "sanitize_null_text_characters": True,
            # records are validated once, in the tap
            "validate_records": False,
        },
    ),
)
