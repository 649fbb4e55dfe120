"""What a scaffolded emulator declares: its objects, how it is asked for them, and its limits.

``devstack new-source`` writes one ``DeclaredApi`` per new source (``sandbox/<name>/api.py``);
everything else (seeded data, paging, the filter, auth, the rate limit, the admin routes and
faults) is this package's, the same for every declared source.

Two surfaces:
- ``rest``: ``GET <prefix>/<object>`` lists records in ``(updated, id)`` order (``(created,
  id)`` when the historical filter is asked), ``limit`` per page, an opaque ``cursor`` to the
  next page, and the filter as query parameters;
- ``sql``: ``POST <prefix>/statements`` runs one read-only ``SELECT`` with ``?`` parameters
  over the objects as tables, and pages its rows (``next_page``), as SQL-over-HTTP warehouse
  APIs do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    EMAIL = "email"


class TimeFormat(StrEnum):
    """How the API writes the filter's values and the records' timestamps."""

    ISO8601 = "iso8601"  # 2024-01-02T03:04:05Z
    EPOCH_SECONDS = "epoch_seconds"  # 1704164645
    DATE = "date"  # the filter by day (2024-01-02), the records in ISO 8601


class Auth(StrEnum):
    API_KEY = "api_key"  # Authorization: Bearer <key>
    OAUTH_CLIENT_CREDENTIALS = "oauth_client_credentials"  # POST <prefix>/oauth/token


class Surface(StrEnum):
    REST = "rest"
    SQL = "sql"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = FieldType.STRING


@dataclass(frozen=True)
class DeclaredObject:
    """One object: its ``id``, ``created_at`` and ``updated_at`` come with it."""

    name: str
    fields: tuple[Field, ...] = ()
    rows: int = 300


@dataclass(frozen=True)
class DeclaredApi:
    name: str
    objects: tuple[DeclaredObject, ...]
    surface: Surface = Surface.REST
    auth: Auth = Auth.API_KEY
    prefix: str = "/api"
    time_format: TimeFormat = TimeFormat.ISO8601
    #: The lower bound on ``updated_at``: its parameter and whether it is inclusive (``>=``).
    filter_param: str = "updated_since"
    filter_inclusive: bool = True
    #: The upper bound on ``updated_at`` (exclusive), or none.
    upper_param: str | None = "updated_before"
    #: The historical filter on ``created_at`` (a backfill's), ``[since, before)``, or none.
    created_param: str | None = None
    created_upper_param: str | None = None
    max_page_size: int = 100
    #: Requests per second and per minute the API allows (one budget per credential).
    rate_per_second: int = 10
    rate_per_minute: int = 300
    #: Credentials it accepts: API keys, or OAuth client id -> secret.
    api_keys: tuple[str, ...] = ("sandbox_not_a_secret",)
    clients: dict[str, str] = field(
        default_factory=lambda: {"sandbox-client": "sandbox_not_a_secret"}
    )
    token_ttl_seconds: int = 3600
    #: Days of history the seeded records are spread over, ending at the data clock's start.
    history_days: int = 400
    #: Records of each object seeded with one shared ``updated_at`` (ties at a bookmark).
    tied_records: int = 25
