"""``tap-bigquery``: settings, the checks run before any request, and discovery (one stream per
entry of ``streams``, its schema read from the table or the query's result)."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from google.cloud.bigquery import SchemaField
from singer_sdk import Stream
from singer_sdk import typing as th

from tap_bigquery.client import BigQueryError, Connection, translated
from tap_bigquery.keys import BOUND_FORMATS, ISO, KeyType, KeyTypeError
from tap_bigquery.query import Source
from tap_bigquery.schema import json_schema
from tap_bigquery.stream import BigQueryStream, StreamSpec, stream_class
from tapkit.settings import common_settings
from tapkit.tap import PoliteTap

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# project ids may hold dashes (and a domain prefix); datasets and tables are plain names
_TABLE = re.compile(
    r"(?:(?P<project>[a-z][a-z0-9.:-]*[a-z0-9])\.)?(?P<dataset>\w+)\.(?P<table>\w+)"
)
_READ_APIS = ("auto", "storage", "rest")
_COMMON = (
    "replace_nul_characters",
    "validate_records",
    "progress_interval_seconds",
    "emit_activate_version_messages",
    "strict_settings",
)

STREAM = th.ObjectType(
    th.Property(
        "name", th.StringType, required=True, description="The stream (and table) name to load as."
    ),
    th.Property("table", th.StringType, description="`dataset.table` or `project.dataset.table`."),
    th.Property("query", th.StringType, description="A SELECT to read instead of a table."),
    th.Property(
        "columns", th.ArrayType(th.StringType), description="Columns to read (default: all)."
    ),
    th.Property(
        "replication_key",
        th.StringType,
        description="INT64, TIMESTAMP, DATETIME or DATE column read incrementally (unset: the stream is read whole every run).",
    ),
    th.Property(
        "primary_keys",
        th.ArrayType(th.StringType),
        description="Columns that identify a row (default: the table's primary key constraint, if any).",
    ),
    th.Property(
        "filters",
        th.ArrayType(th.StringType),
        description="GoogleSQL conditions every row must meet, ANDed.",
    ),
    th.Property(
        "start_value",
        th.StringType,
        description="This stream's first lower bound (overrides the tap's start_value).",
    ),
)


class TapBigQuery(PoliteTap):
    """Google BigQuery tables and queries, read incrementally by key in parallel slices."""

    name = "tap-bigquery"
    package_name = "tapworks-tap-bigquery"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "project_id",
            th.StringType,
            description="The project queries run (and are billed) in, and tables without a project "
            "belong to. Unset: the credentials' project.",
        ),
        th.Property(
            "credentials_path",
            th.StringType,
            description="A service account key file. Unset (with credentials_json unset): "
            "Application Default Credentials.",
        ),
        th.Property(
            "credentials_json",
            th.StringType,
            secret=True,
            description="The content of a service account key file, instead of credentials_path.",
        ),
        th.Property(
            "location",
            th.StringType,
            description="Where query jobs run (US, EU, europe-west1...): the datasets' location.",
        ),
        th.Property(
            "api_endpoint",
            th.StringType,
            description="BigQuery's REST endpoint instead of Google's, e.g. an emulator's "
            "http://127.0.0.1:9050; requests to it carry no credentials unless credentials_path "
            "or credentials_json is set.",
        ),
        th.Property(
            "storage_api_endpoint",
            th.StringType,
            description="The Storage Read API's host:port instead of Google's (an emulator's gRPC port).",
        ),
        th.Property(
            "streams",
            th.ArrayType(STREAM),
            required=True,
            description="The tables or queries to read, one stream each.",
        ),
        th.Property(
            "start_value",
            th.StringType,
            description="The first run's lower bound for every incremental stream without its own: "
            "an ISO 8601 instant, a date, an integer, or a yyyy-MM-dd HH:mm:ss.SSS literal. Unset: "
            "from the lowest key.",
        ),
        th.Property(
            "bound_format",
            th.StringType,
            default=ISO,
            allowed_values=list(BOUND_FORMATS),
            description="How instant bounds are sent: ISO (typed TIMESTAMP/DATETIME parameters, to "
            "the microsecond) or yyyy-MM-dd HH:mm:ss.SSS (SQL Server literals, to the millisecond; "
            "needed for STRING keys holding such text).",
        ),
        th.Property(
            "max_parallel_reads",
            th.IntegerType,
            default=4,
            description="Slices of a run's key range read at once, each one query (rows and state "
            "still go out in key order). 1 reads one query at a time.",
        ),
        th.Property(
            "maximum_bytes_billed",
            th.IntegerType,
            description="Refuse a stream whose query would process more bytes than this (a dry run "
            "first, before anything runs; BigQuery enforces it on every query too). Unset: no limit.",
        ),
        th.Property(
            "read_api",
            th.StringType,
            default="auto",
            allowed_values=list(_READ_APIS),
            description="How query results are read: storage (the Storage Read API), rest "
            "(getQueryResults pages), or auto (storage, falling back to pages when refused).",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=10_000,
            description="Rows per page read; a range is sliced only when it holds more rows than one page.",
        ),
        *(p for p in common_settings(start_date_required=False) if p.name in _COMMON),
    ).to_dict()

    # -- settings -------------------------------------------------------------------------------

    def check_config(self) -> list[str]:
        config = self.config
        errors = []
        if config.get("credentials_path") and config.get("credentials_json"):
            errors.append("credentials_path and credentials_json are both set; keep one")
        endpoint = config.get("api_endpoint")
        if endpoint and not str(endpoint).startswith(("http://", "https://")):
            errors.append(f"api_endpoint: {endpoint!r} is not an http(s) URL")
        for name in ("max_parallel_reads", "maximum_bytes_billed", "page_size"):
            value = config.get(name)
            if value is not None and (isinstance(value, bool) or value < 1):
                errors.append(f"{name}: must be an integer of at least 1, got {value!r}")
        streams = config.get("streams") or []
        if not streams:
            errors.append("streams: name at least one table or query to read")
        seen: set[str] = set()
        for index, entry in enumerate(streams):
            errors += _stream_errors(entry, f"streams[{index}]", seen)
        return errors

    def sync_all(self) -> None:  # type: ignore[misc]
        """Every selected stream's dry run first: a run over ``maximum_bytes_billed`` stops
        before any query runs or any record goes out."""
        for stream in self.streams.values():
            if stream.selected and isinstance(stream, BigQueryStream):
                stream.check_bytes()
        super().sync_all()

    # -- discovery ------------------------------------------------------------------------------

    @cached_property
    def connection(self) -> Connection:
        return Connection.open(self.config)

    @cached_property
    def discovered_fields(self) -> dict[str, list[SchemaField]]:
        return {}

    def discover_streams(self) -> list[Stream]:
        return [self._stream(entry) for entry in self.config.get("streams") or []]

    def _stream(self, entry: dict[str, Any]) -> Stream:
        name = entry["name"]
        what = f"stream {name}"
        source = Source(
            table=self._table(entry["table"]) if entry.get("table") else None,
            query=entry.get("query"),
            filters=tuple(entry.get("filters") or ()),
        )
        with translated(what, self.config):
            if source.table is not None:
                table = self.connection.client.get_table(source.table)
                fields, constraint = list(table.schema), _primary_key(table)
            else:
                fields, constraint = self.connection.schema(_schema_query(source)), ()
        by_name = {f.name.lower(): f for f in fields}
        key = entry.get("replication_key")
        keys = tuple(entry.get("primary_keys") or constraint)
        columns = list(entry.get("columns") or [])
        for column in (key, *keys):  # the key and primary keys are always read
            if column and columns and column.lower() not in {c.lower() for c in columns}:
                columns.append(column)
        for column in [*columns, *keys, *([key] if key else [])]:
            if column.lower() not in by_name:
                raise BigQueryError(
                    f"{what}: {column!r} is not a column of {source.table or 'the query'} "
                    f"(it has {', '.join(f.name for f in fields)})"
                )
        if columns:
            fields = [by_name[c.lower()] for c in columns]
        key_type = None
        if key:
            key = by_name[key.lower()].name
            start = entry.get("start_value") or self.config.get("start_value")
            try:
                key_type = KeyType.of(by_name[key.lower()].field_type, self._bound_format, key)
            except KeyTypeError as exc:
                raise BigQueryError(f"{what}: {exc}") from None
            try:
                if start not in (None, ""):
                    key_type.parse(start)
            except KeyTypeError as exc:
                raise BigQueryError(f"{what}: start_value: {exc}") from None
        spec = StreamSpec(
            name,
            Source(source.table, source.query, tuple(f.name for f in fields), source.filters),
            replication_key=key,
            primary_keys=tuple(by_name[k.lower()].name for k in keys),
            start_value=entry.get("start_value") or self.config.get("start_value"),
        )
        self.discovered_fields[name] = fields
        stream = stream_class(spec, key_type)(tap=self, schema=json_schema(fields), name=name)
        stream.primary_keys = list(spec.primary_keys)
        return stream

    @property
    def _bound_format(self) -> str:
        return str(self.config.get("bound_format") or ISO)

    def _table(self, text: str) -> str:
        found = _TABLE.fullmatch(text)
        assert found is not None  # check_config refused it otherwise
        project = found["project"] or self.connection.client.project
        return f"{project}.{found['dataset']}.{found['table']}"


def _stream_errors(entry: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    errors = []
    name = entry.get("name") or ""
    if not _NAME.fullmatch(name):
        errors.append(
            f"{where}.name: {name!r} must be lower_snake_case (it names the table loaded)"
        )
    elif name in seen:
        errors.append(f"{where}.name: {name!r} is used by two streams")
    seen.add(name)
    if bool(entry.get("table")) == bool(entry.get("query")):
        errors.append(f"{where}: give exactly one of table and query")
    table = entry.get("table")
    if table and not _TABLE.fullmatch(str(table)):
        errors.append(f"{where}.table: {table!r} is not dataset.table or project.dataset.table")
    for setting in ("columns", "primary_keys"):
        for column in entry.get(setting) or []:
            if not _COLUMN.fullmatch(str(column)):
                errors.append(f"{where}.{setting}: {column!r} is not a column name")
    key = entry.get("replication_key")
    if key is not None and not _COLUMN.fullmatch(str(key)):
        errors.append(f"{where}.replication_key: {key!r} is not a column name")
    return errors


def _primary_key(table: Any) -> tuple[str, ...]:
    constraints = getattr(table, "table_constraints", None)
    primary = getattr(constraints, "primary_key", None) if constraints else None
    return tuple(primary.columns) if primary is not None else ()


def _schema_query(source: Source) -> Any:
    from tap_bigquery.query import rows

    return rows(Source(query=source.query, filters=source.filters))
