"""What ``devstack new-source`` asks: the seeds' prerequisites checklist as one declaration.

Every answer has a default per template, so ``new-source NAME --template T`` alone writes a
source that runs; each flag overrides one answer, and a bad answer is refused naming its flag.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sandbox.declared.spec import Auth, FieldType, TimeFormat


class Template(StrEnum):
    REST = "rest"  # one filter kept in state (Shopify, Pinterest Ads)
    BACKFILL = "backfill"  # creation windows first, then the update filter (OneTrust)
    WAREHOUSE = "warehouse"  # SQL over HTTP, the filter a WHERE clause (BigQuery)


class Mode(StrEnum):
    INCREMENTAL = "incremental"
    FULL_TABLE = "full_table"


E = TypeVar("E", bound=StrEnum)


class SpecError(ValueError):
    """A refused answer: the message names the flag and says what it takes."""


NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
#: Fields every declared object has already (the emulator's), so none may be declared again.
SYSTEM_FIELDS = ("id", "created_at", "updated_at")


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    fields: tuple[tuple[str, FieldType], ...]

    @property
    def singular(self) -> str:
        """``invoices`` -> ``invoice``, for the staging model's key column (``invoice_id``)."""
        name = self.name
        if name.endswith("ies"):
            return name[:-3] + "y"
        if name.endswith(("ses", "xes")):
            return name[:-2]
        return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


@dataclass(frozen=True)
class SourceSpec:
    name: str  # acme-billing: tap-acme-billing, tap_acme_billing, sandbox.acme_billing
    template: Template
    label: str
    auth: Auth
    objects: tuple[ObjectSpec, ...]
    mode: Mode
    time_format: TimeFormat
    filter_param: str  # the API's lower bound on updated_at (a column for the warehouse)
    filter_inclusive: bool
    upper_param: str | None
    created_param: str | None  # backfill: the historical filter on created_at
    created_upper_param: str | None
    window_days: int  # backfill: the length of each historical window
    rate_per_second: int
    rate_per_minute: int
    max_concurrent_requests: int
    max_page_size: int
    port: int
    replication_key: str = "updated_at"

    # -- the names each part uses -------------------------------------------------------------

    @property
    def ident(self) -> str:
        return self.name.replace("-", "_")

    @property
    def tap(self) -> str:
        return f"tap-{self.name}"

    @property
    def module(self) -> str:
        return f"tap_{self.ident}"

    @property
    def schema(self) -> str:
        """Where target-postgres loads it: the extractor's namespace."""
        return self.module

    @property
    def class_prefix(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def env_prefix(self) -> str:
        return self.tap.upper().replace("-", "_")

    @property
    def url_variable(self) -> str:
        return f"TAPWORKS_{self.ident.upper()}_URL"

    @property
    def incremental(self) -> bool:
        return self.mode is Mode.INCREMENTAL

    @property
    def oauth(self) -> bool:
        return self.auth is Auth.OAUTH_CLIENT_CREDENTIALS

    @property
    def secret_setting(self) -> str:
        return "client_secret" if self.oauth else "api_key"


#: Each template's answers when no flag is given.
DEFAULTS: dict[Template, dict[str, object]] = {
    Template.REST: {
        "auth": Auth.API_KEY,
        "objects": "customers,invoices",
        "time_format": TimeFormat.ISO8601,
        "filter_param": "updated_since",
        "upper_param": "updated_before",
        "created_param": None,
        "max_concurrent_requests": 2,
    },
    Template.BACKFILL: {
        "auth": Auth.OAUTH_CLIENT_CREDENTIALS,
        "objects": "tickets",
        "time_format": TimeFormat.DATE,
        "filter_param": "modified_since",
        "upper_param": None,
        "created_param": "created_since",
        "max_concurrent_requests": 3,
    },
    Template.WAREHOUSE: {
        "auth": Auth.API_KEY,
        "objects": "orders,web_events",
        "time_format": TimeFormat.ISO8601,
        "filter_param": "updated_at",
        "upper_param": None,
        "created_param": None,
        "max_concurrent_requests": 4,
    },
}
#: Fields an object gets when ``--object NAME`` declares none.
DEFAULT_FIELDS = "name:string,email:email,status:string,amount:number,active:boolean"


def build(
    name: str,
    template: str,
    *,
    label: str | None = None,
    auth: str | None = None,
    objects: list[str] | None = None,
    mode: str = Mode.INCREMENTAL,
    time_format: str | None = None,
    filter_param: str | None = None,
    filter_exclusive: bool = False,
    upper_param: str | None = None,
    no_upper_bound: bool = False,
    created_param: str | None = None,
    window_days: int = 30,
    rate_per_second: int = 10,
    rate_per_minute: int = 300,
    max_concurrent_requests: int | None = None,
    max_page_size: int = 100,
    port: int = 0,
) -> SourceSpec:
    """The declaration from the command's answers; ``SpecError`` names the first bad flag."""
    if not NAME.fullmatch(name) or name.startswith("tap-"):
        raise SpecError(
            f"NAME: {name!r} is not a source name: lower-case letters and digits in "
            "hyphen-separated parts, without tap- (e.g. acme-billing)"
        )
    if keyword.iskeyword(name.replace("-", "_")):
        raise SpecError(f"NAME: {name!r} is a Python keyword; choose another name")
    chosen = _choice(Template, template, "--template")
    defaults = DEFAULTS[chosen]
    chosen_auth = _choice(Auth, auth or str(defaults["auth"]), "--auth")
    chosen_format = _choice(
        TimeFormat, time_format or str(defaults["time_format"]), "--time-format"
    )
    chosen_mode = _choice(Mode, mode, "--mode")
    declared = objects or str(defaults["objects"]).split(",")
    parsed = tuple(_object(text) for text in declared)
    if len({o.name for o in parsed}) != len(parsed):
        raise SpecError("--object: an object is declared twice")
    lower = filter_param or str(defaults["filter_param"])
    upper = None if no_upper_bound else (upper_param or _optional(defaults["upper_param"]))
    created = created_param or _optional(defaults["created_param"])
    if chosen is Template.WAREHOUSE:
        if lower not in ("updated_at", "created_at"):
            raise SpecError("--filter-param: a warehouse filters on a column: updated_at")
        if chosen_format is not TimeFormat.ISO8601:
            raise SpecError("--time-format: a warehouse compares timestamps: iso8601 only")
        if chosen_auth is not Auth.API_KEY:
            raise SpecError("--auth: the warehouse template takes api_key (a service token)")
        upper, created = None, None
    for flag, value in (
        ("--filter-param", lower),
        ("--upper-param", upper),
        ("--created-param", created),
    ):
        if value is not None and not IDENTIFIER.fullmatch(value):
            raise SpecError(f"{flag}: {value!r} is not a query parameter name (a-z, 0-9, _)")
    if chosen is Template.BACKFILL and created is None:
        raise SpecError("--created-param: a backfill reads its history by creation date")
    if len({p for p in (lower, upper, created) if p}) != len(
        [p for p in (lower, upper, created) if p]
    ):
        raise SpecError("--filter-param, --upper-param and --created-param must differ")
    for flag, number, low, high in (
        ("--window-days", window_days, 1, 366),
        ("--rate-per-second", rate_per_second, 1, 10_000),
        ("--rate-per-minute", rate_per_minute, 1, 600_000),
        ("--max-page-size", max_page_size, 10, 10_000),
        ("--port", port, 0, 65_535),
    ):
        if not low <= number <= high:
            raise SpecError(f"{flag}: must be {low} to {high}, got {number}")
    if rate_per_minute < rate_per_second:
        raise SpecError("--rate-per-minute: must be at least --rate-per-second")
    concurrency = max_concurrent_requests or int(str(defaults["max_concurrent_requests"]))
    if not 1 <= concurrency <= 32:
        raise SpecError(f"--max-concurrent-requests: must be 1 to 32, got {concurrency}")
    return SourceSpec(
        name=name,
        template=chosen,
        label=label or " ".join(part.capitalize() for part in name.split("-")),
        auth=chosen_auth,
        objects=parsed,
        mode=chosen_mode,
        time_format=chosen_format,
        filter_param=lower,
        filter_inclusive=not filter_exclusive,
        upper_param=upper,
        created_param=created if chosen is Template.BACKFILL else None,
        created_upper_param=None,
        window_days=window_days,
        rate_per_second=rate_per_second,
        rate_per_minute=rate_per_minute,
        max_concurrent_requests=concurrency,
        max_page_size=max_page_size,
        port=port,
    )


def _choice(kind: type[E], value: str, flag: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise SpecError(
            f"{flag}: {value!r} is not one of {', '.join(m.value for m in kind)}"
        ) from None


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _object(text: str) -> ObjectSpec:
    """``invoices`` or ``invoices:amount=number,status=string``."""
    name, _, fields_text = text.partition(":")
    name = name.strip()
    if not IDENTIFIER.fullmatch(name):
        raise SpecError(f"--object: {name!r} is not an object name (a-z, 0-9, _; e.g. invoices)")
    fields: list[tuple[str, FieldType]] = []
    for part in (fields_text or DEFAULT_FIELDS.replace(":", "=")).split(","):
        field_name, _, type_name = part.strip().partition("=")
        if not IDENTIFIER.fullmatch(field_name):
            raise SpecError(f"--object {name}: {field_name!r} is not a field name (a-z, 0-9, _)")
        if field_name in SYSTEM_FIELDS:
            raise SpecError(f"--object {name}: {field_name} comes with every object; leave it out")
        fields.append((field_name, _choice(FieldType, type_name or "string", f"--object {name}")))
    if len({f for f, _ in fields}) != len(fields):
        raise SpecError(f"--object {name}: a field is declared twice")
    return ObjectSpec(name, tuple(fields))
