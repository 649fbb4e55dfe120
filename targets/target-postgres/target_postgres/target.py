"""``target-postgres`` (variant ``tapworks``): singer-sdk's CLI, settings and ``--about``; the
message loop and the loading are this package's own (``loader``, ``table``)."""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import IO, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import set_json_dumps
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TargetCapabilities,
)

from target_postgres.columns import encode_json
from target_postgres.loader import Loader, LoadError, Options
from target_postgres.messages import BadMessageError

LOAD_METHODS = ("upsert", "append-only", "overwrite")


class TargetPostgres(Target):
    """Postgres loader: binary COPY, a checksum-guarded merge, time zones kept, deletes applied."""

    name = "target-postgres"
    package_name = "tapworks-target-postgres"
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.BATCH,
        TargetCapabilities.HARD_DELETE,
        TargetCapabilities.TARGET_SCHEMA,
    ]
    config_jsonschema = th.PropertiesList(
        th.Property(
            "sqlalchemy_url",
            th.StringType,
            secret=True,
            description="Connection URL, e.g. postgresql+psycopg://user:password@host:5432/db "
            "(the driver part is ignored; `?host=/socket/dir` reaches a Unix socket). Overrides "
            "host, port, user, password and database.",
        ),
        th.Property(
            "host", th.StringType, description="Server host name or Unix socket directory."
        ),
        th.Property("port", th.IntegerType, default=5432, description="Server port."),
        th.Property("user", th.StringType, description="User name."),
        th.Property("password", th.StringType, secret=True, description="Password."),
        th.Property("database", th.StringType, description="Database name."),
        th.Property(
            "default_target_schema",
            th.StringType,
            default="melty",
            description="Schema the tables go to; Meltano sets it to the tap's namespace.",
        ),
        th.Property(
            "load_method",
            th.StringType(allowed_values=list(LOAD_METHODS)),
            default="upsert",
            description="upsert: one row per primary key, rewritten only when the record changed; "
            "append-only: every record a new row; overwrite: the run's records replace the "
            "table's (emptied at the run's first batch). Streams without a key are appended.",
        ),
        th.Property(
            "hard_delete",
            th.BooleanType,
            default=False,
            description="Delete rows instead of setting _sdc_deleted_at: rows of older versions at "
            "ACTIVATE_VERSION, and rows whose record carries _sdc_deleted_at.",
        ),
        th.Property(
            "activate_version",
            th.BooleanType,
            default=True,
            description="Retire rows of older table versions when a full-table stream's "
            "ACTIVATE_VERSION says a new version is complete.",
        ),
        th.Property(
            "add_record_metadata",
            th.BooleanType,
            default=True,
            description="Add _sdc_extracted_at, _sdc_received_at, _sdc_batched_at and "
            "_sdc_sync_started_at. _sdc_deleted_at, _sdc_sequence, _sdc_table_version, "
            "_sdc_checksum and _sdc_ingested_at are always written.",
        ),
        th.Property(
            "batch_size_rows",
            th.IntegerType,
            default=20_000,
            description="Rows buffered (over all streams) before a batch is committed.",
        ),
        th.Property(
            "batch_wait_limit_seconds",
            th.NumberType,
            default=30,
            description="Longest a received row waits before its batch is committed and the "
            "STATE covering it is forwarded, also while the tap is quiet.",
        ),
    ).to_dict()

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        """Only the settings this target honours (none of singer-sdk's sink settings)."""

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        file_input: IO[str] | None = None,
    ) -> None:
        """singer-sdk's ``Target.invoke`` with ``load`` for its message loop (``listen`` is
        final).  ``config`` is singer-sdk's parsed ``--config`` (``.config``, ``.parse_env``)."""
        super(Target, cls).invoke(about=about, about_format=about_format)  # --about exits here
        cls.print_version(print_fn=cls.logger.info)
        target = cls(
            config=config.config if config is not None else {},
            validate_config=True,
            parse_env_config=bool(config.parse_env) if config is not None else False,
            setup_mapper=False,
        )
        target.load(file_input or sys.stdin)

    def load(self, source: IO[Any]) -> None:
        """Load Singer messages from ``source``; exits 1 with one clear line on bad input."""
        config = dict(self.config)
        try:
            options = options_from(config)
            with connect(config) as connection:
                Loader(connection, options, self.logger).run(source)
        except (LoadError, BadMessageError, SettingError) as error:
            self.logger.error("%s", error)
            sys.exit(1)
        except psycopg.Error as error:
            self.logger.error("%s", scrub(f"Postgres refused the load: {error}", config))
            sys.exit(1)


class SettingError(Exception):
    pass


def options_from(config: dict[str, Any]) -> Options:
    method = config.get("load_method", "upsert")
    if method not in LOAD_METHODS:
        raise SettingError(f"load_method: {method!r} is not one of {', '.join(LOAD_METHODS)}")
    size = config.get("batch_size_rows", 20_000)
    if not isinstance(size, int) or size < 1:
        raise SettingError(f"batch_size_rows: must be a positive integer, got {size!r}")
    wait = config.get("batch_wait_limit_seconds", 30)
    if isinstance(wait, bool) or not isinstance(wait, int | float | Decimal) or wait <= 0:
        raise SettingError(f"batch_wait_limit_seconds: must be a positive number, got {wait!r}")
    return Options(
        schema=str(config.get("default_target_schema") or "melty"),
        load_method=method,
        hard_delete=bool(config.get("hard_delete", False)),
        batch_size_rows=size,
        batch_wait_limit_seconds=float(wait),
        add_record_metadata=bool(config.get("add_record_metadata", True)),
        activate_version=bool(config.get("activate_version", True)),
    )


def conninfo(config: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """libpq connection arguments, and the setting that supplied them (for errors)."""
    url = config.get("sqlalchemy_url")
    if url:
        parts = urlsplit(str(url))
        scheme = parts.scheme.split("+")[0]
        if scheme not in ("postgresql", "postgres"):
            raise SettingError(
                f"sqlalchemy_url: scheme {parts.scheme!r} is not postgresql; write "
                "postgresql://user:password@host:port/database"
            )
        return urlunsplit(parts._replace(scheme="postgresql")), {}, "sqlalchemy_url"
    if not config.get("host") and not config.get("database"):
        raise SettingError(
            "no server configured: set sqlalchemy_url, or host (with port, user, password, database)"
        )
    keywords = {
        "host": config.get("host"),
        "port": config.get("port", 5432),
        "user": config.get("user"),
        "password": config.get("password"),
        "dbname": config.get("database"),
    }
    return (
        "",
        {k: v for k, v in keywords.items() if v is not None},
        "host, port, user, password, database",
    )


def connect(config: dict[str, Any]) -> psycopg.Connection[Any]:
    info, keywords, setting = conninfo(config)
    try:
        connection = psycopg.connect(info, autocommit=True, **keywords)
    except psycopg.OperationalError as error:
        detail = scrub(str(error).strip(), config)
        raise SettingError(f"cannot connect to Postgres with {setting}: {detail}") from None
    set_json_dumps(encode_json, context=connection)
    return connection


def scrub(text: str, config: dict[str, Any]) -> str:
    for secret in _secrets(config):
        text = text.replace(secret, "***")
    return text


def _secrets(config: dict[str, Any]) -> list[str]:
    found = [str(config["password"])] if config.get("password") else []
    url = config.get("sqlalchemy_url")
    if url:
        password = urlsplit(str(url)).password
        if password:
            found.append(password)
        found.append(str(url))
    return found
