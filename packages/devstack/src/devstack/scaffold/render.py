"""The files of a new source, rendered from the templates and its ``SourceSpec``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from devstack.scaffold.spec import Mode, SourceSpec, Template
from sandbox.declared.spec import Auth, FieldType, TimeFormat

TEMPLATES = Path(__file__).parent / "templates"

#: tapkit's filter format for each of the API's timestamp formats.
FILTER_FORMATS = {
    TimeFormat.ISO8601: "ISO8601_Z",
    TimeFormat.EPOCH_SECONDS: "EPOCH_SECONDS",
    TimeFormat.DATE: "ISO_DATE",
}
_JSON_TYPES = {
    FieldType.STRING: {"type": ["string", "null"]},
    FieldType.EMAIL: {"type": ["string", "null"]},
    FieldType.INTEGER: {"type": ["integer", "null"]},
    FieldType.NUMBER: {"type": ["number", "null"]},
    FieldType.BOOLEAN: {"type": ["boolean", "null"]},
    FieldType.TIMESTAMP: {"type": ["string", "null"], "format": "date-time"},
}
#: Postgres' type of each field as target-postgres creates it (the dbt source declares them).
PG_TYPES = {
    FieldType.STRING: "text",
    FieldType.EMAIL: "text",
    FieldType.INTEGER: "bigint",
    FieldType.NUMBER: "numeric",
    FieldType.BOOLEAN: "boolean",
    FieldType.TIMESTAMP: "timestamptz",
}

#: The columns target-postgres adds to every table, and their types.
LOADER_COLUMNS = (
    ("_sdc_deleted_at", "timestamptz"),
    ("_sdc_sequence", "bigint"),
    ("_sdc_table_version", "bigint"),
    ("_sdc_checksum", "text"),
    ("_sdc_extracted_at", "timestamptz"),
    ("_sdc_received_at", "timestamptz"),
    ("_sdc_batched_at", "timestamptz"),
    ("_sdc_sync_started_at", "bigint"),
    ("_sdc_ingested_at", "timestamptz"),
)


def files(spec: SourceSpec) -> dict[str, str]:
    """Path (relative to the project root) -> text, for every file the source adds."""
    env = _environment()
    values = {"spec": spec, **summaries(spec)}

    def render(template: str) -> str:
        return env.get_template(template).render(values)

    tap, module = f"taps/{spec.tap}", f"taps/{spec.tap}/{spec.module}"
    client = "client_warehouse" if spec.template is Template.WAREHOUSE else "client_rest"
    written = {
        f"{tap}/pyproject.toml": render("tap/pyproject.toml.jinja"),
        f"{tap}/README.md": render("tap/README.md.jinja"),
        f"{tap}/LICENSE": render("tap/LICENSE.jinja"),
        f"{module}/__init__.py": render("tap/__init__.py.jinja"),
        f"{module}/__main__.py": render("tap/__main__.py.jinja"),
        f"{module}/tap.py": render("tap/tap.py.jinja"),
        f"{module}/client.py": render(f"tap/{client}.py.jinja"),
        f"{module}/streams.py": render("tap/streams.py.jinja"),
        f"{module}/schemas/__init__.py": "",
        f"{tap}/tests/conftest.py": render("tests/conftest.py.jinja"),
        f"{tap}/tests/test_core.py": render("tests/test_core.py.jinja"),
        f"{tap}/tests/test_config.py": render("tests/test_config.py.jinja"),
        f"{tap}/tests/test_sync.py": render("tests/test_sync.py.jinja"),
        f"{tap}/tests/test_generated.py": render("tests/test_generated.py.jinja"),
        f"packages/sandbox/src/sandbox/{spec.ident}/__init__.py": render(
            "sandbox/__init__.py.jinja"
        ),
        f"packages/sandbox/src/sandbox/{spec.ident}/__main__.py": render(
            "sandbox/__main__.py.jinja"
        ),
        f"packages/sandbox/src/sandbox/{spec.ident}/api.py": render("sandbox/api.py.jinja"),
        f"packages/sandbox/tests/test_{spec.ident}_contract.py": render(
            "sandbox/test_contract.py.jinja"
        ),
    }
    for obj in spec.objects:
        written[f"{module}/schemas/{obj.name}.json"] = schema(spec, obj.fields)
    staging = f"transform/models/staging/{spec.ident}"
    written[f"{staging}/_{spec.ident}__sources.yml"] = render("dbt/_sources.yml.jinja")
    written[f"{staging}/_{spec.ident}__models.yml"] = render("dbt/_models.yml.jinja")
    written[f"{staging}/_{spec.ident}__docs.md"] = render("dbt/_docs.md.jinja")
    for obj in spec.objects:
        written[f"{staging}/stg_{spec.ident}__{obj.name}.sql"] = env.get_template(
            "dbt/stg_model.sql.jinja"
        ).render({**values, "object": obj})
    return written


def schema(spec: SourceSpec, fields: tuple[tuple[str, FieldType], ...]) -> str:
    instant: dict[str, Any] = (
        {"type": ["integer"]}
        if spec.time_format is TimeFormat.EPOCH_SECONDS and spec.template is not Template.WAREHOUSE
        else {"type": ["string"], "format": "date-time"}
    )
    properties: dict[str, Any] = {
        "id": {"type": ["string"]},
        "created_at": instant,
        "updated_at": instant,
        **{name: _JSON_TYPES[kind] for name, kind in fields},
    }
    document = {"type": "object", "properties": properties, "required": ["id", "updated_at"]}
    return json.dumps(document, indent=2) + "\n"


def summaries(spec: SourceSpec) -> dict[str, Any]:
    """The source characteristics table's cells, in words."""
    formats = {
        TimeFormat.ISO8601: "ISO 8601 in UTC (`2024-01-02T03:04:05Z`), to the second",
        TimeFormat.EPOCH_SECONDS: "epoch seconds (`1704164645`) in records and filters",
        TimeFormat.DATE: "the filter by day (`2024-01-02`); records keep ISO 8601 instants",
    }
    if spec.template is Template.WAREHOUSE:
        filter_text = (
            f"`WHERE {spec.filter_param} >= ? AND {spec.filter_param} < ?` (bound parameters)"
        )
    else:
        op = ">=" if spec.filter_inclusive else ">"
        filter_text = f"`{spec.filter_param}` ({op} the bookmark)"
        if spec.upper_param:
            filter_text += f", `{spec.upper_param}` (< the window's end)"
        if spec.created_param:
            filter_text = (
                f"first load: `{spec.created_param}` (creation, by {spec.window_days}-day windows, "
                f"resumable); then {filter_text}"
            )
    if not spec.incremental:
        filter_text = "none (full table)"
    paging = (
        "SQL results paged by the API (`next_page`), one query per window"
        if spec.template is Template.WAREHOUSE
        else f"`limit` (at most {spec.max_page_size}) and `cursor` from `next_cursor`"
    )
    epoch = spec.time_format is TimeFormat.EPOCH_SECONDS and spec.template is not Template.WAREHOUSE
    return {
        "epoch": epoch,
        "raw_instant": "bigint" if epoch else "timestamptz",
        "loader_columns": LOADER_COLUMNS,
        "template_summary": {
            Template.REST: "a REST API with the state key and the API filter declared apart",
            Template.BACKFILL: "historical windows by creation, then incremental by update",
            Template.WAREHOUSE: "SQL over HTTP, the filter a WHERE clause",
        }[spec.template],
        "auth_summary": "OAuth 2 client credentials (`client_id`, `client_secret`; token from `/oauth/token`)"
        if spec.auth is Auth.OAUTH_CLIENT_CREDENTIALS
        else "API key (`api_key`), sent as `Authorization: Bearer`",
        "mode_summary": "incremental" if spec.mode is Mode.INCREMENTAL else "full table",
        "filter_summary": filter_text,
        "format_summary": formats[spec.time_format],
        "paging_summary": paging,
        "filter_format": FILTER_FORMATS[spec.time_format],
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["classname"] = lambda name: "".join(p.capitalize() for p in name.split("_"))
    env.filters["pg_type"] = lambda kind: PG_TYPES[kind]
    return env
