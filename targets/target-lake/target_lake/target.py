"""``target-lake`` (variant ``tapworks``): singer-sdk's CLI, settings and ``--about``; the
message loop and the writing are this package's own (``loader``, ``writer``)."""

from __future__ import annotations

import sys
from typing import IO, Any, ClassVar

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
)

from target_lake.loader import Loader, LoadError
from target_lake.manifest import folder
from target_lake.messages import BadMessageError
from target_lake.storage import SECRET_SETTINGS, StoreError, closing, shut_down_s3
from target_lake.writer import Options, Writer

FORMATS = ("parquet", "jsonl")


def storage_properties() -> list[th.Property[Any]]:
    """Where the lake is: shared by the target and the replay tap."""
    return [
        th.Property(
            "root",
            th.StringType,
            required=True,
            description="The lake: a folder (/data/lake, file:///data/lake) or a URL "
            "(s3://bucket/prefix; another fsspec URL if that filesystem is installed).",
        ),
        th.Property(
            "s3_endpoint_url",
            th.StringType,
            description="An S3-compatible server instead of AWS, e.g. http://127.0.0.1:9000 "
            "(MinIO).",
        ),
        th.Property("s3_region", th.StringType, description="The bucket's region, e.g. eu-west-1."),
        th.Property(
            "aws_access_key_id",
            th.StringType,
            secret=True,
            description="Access key id; with neither key set, the AWS default credentials "
            "(environment, ~/.aws, instance role).",
        ),
        th.Property(
            "aws_secret_access_key", th.StringType, secret=True, description="Secret access key."
        ),
        th.Property(
            "aws_session_token",
            th.StringType,
            secret=True,
            description="Session token of temporary credentials.",
        ),
    ]


class TargetLake(Target):
    """Raw lake: Parquet or JSONL.gz by stream and day, a manifest per run, provenance per row."""

    name = "target-lake"
    package_name = "tapworks-target-lake"
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.ACTIVATE_VERSION,
    ]
    config_jsonschema = th.PropertiesList(
        *storage_properties(),
        th.Property(
            "tap",
            th.StringType,
            required=True,
            description="Name of the tap whose records come in: the lake's top folder "
            "(<root>/<tap>/<stream>/dt=YYYY-MM-DD/). In Meltano: $MELTANO_EXTRACTOR_NAME.",
        ),
        th.Property(
            "tap_version",
            th.StringType,
            description="The tap's version, recorded in each manifest.",
        ),
        th.Property(
            "format",
            th.StringType(allowed_values=list(FORMATS)),
            default="parquet",
            description="parquet (zstd; typed columns, nested values as JSON) or jsonl "
            "(JSON Lines, gzip: each record as sent, with the provenance properties).",
        ),
        th.Property(
            "partition_date_field",
            th.StringType,
            description="A record property (a date-time or date) whose UTC day is the dt= "
            "partition, for the streams whose schema has it; otherwise, and for records "
            "without a value, the day of extraction.",
        ),
        th.Property(
            "batch_size_rows",
            th.IntegerType,
            default=50_000,
            description="Rows per batch (over all streams): a batch ends at the first STATE "
            "after this many rows; its files, then its manifest, are written before its "
            "STATE is forwarded.",
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
        """singer-sdk's ``Target.invoke`` with ``load`` for its message loop."""
        super(Target, cls).invoke(about=about, about_format=about_format)  # --about exits here
        cls.print_version(print_fn=cls.logger.info)
        target = cls(
            config=config.config if config is not None else {},
            validate_config=True,
            parse_env_config=bool(config.parse_env) if config is not None else False,
            setup_mapper=False,
        )
        try:
            target.load(file_input or sys.stdin)
        finally:
            shut_down_s3()

    def load(self, source: IO[Any]) -> None:
        """Write Singer messages from ``source`` to the lake; exits 1 with one clear line."""
        config = dict(self.config)
        try:
            options = options_from(config)
            with closing(config) as store:
                store.probe(folder(options.tap))  # fails before any input is read
                writer = Writer(store, options, self.logger, sys.stdout)
                Loader(writer, options, self.logger).run(source)
        except (LoadError, BadMessageError, StoreError, SettingError) as error:
            self.logger.error("%s", scrub(str(error), config))
            sys.exit(1)


class SettingError(Exception):
    pass


def options_from(config: dict[str, Any]) -> Options:
    tap = str(config.get("tap") or "").strip()
    if not tap:
        raise SettingError(
            "tap: not set; name the tap whose lake this is (in Meltano: $MELTANO_EXTRACTOR_NAME)"
        )
    fmt = config.get("format") or "parquet"
    if fmt not in FORMATS:
        raise SettingError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    size = config.get("batch_size_rows", 50_000)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise SettingError(f"batch_size_rows: must be a positive integer, got {size!r}")
    return Options(
        tap=tap,
        format=fmt,
        partition_date_field=config.get("partition_date_field") or None,
        batch_size_rows=size,
        tap_version=config.get("tap_version") or None,
    )


def scrub(text: str, config: dict[str, Any]) -> str:
    for name in SECRET_SETTINGS:
        if config.get(name):
            text = text.replace(str(config[name]), "***")
    return text
