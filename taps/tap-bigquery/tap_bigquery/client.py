"""Google's BigQuery clients, set up from the settings, and what the tap asks of them: a dry
run, the key statistics, and a query's rows as pages.

Rows come through the Storage Read API (Arrow, one stream per query, so the query's order is
kept) when ``read_api`` allows and the server can; otherwise through ``getQueryResults``
pages.  With ``read_api: auto`` the first refusal (the emulator reads tables but not query
results; a principal without ``bigquery.readsessions.create``) switches the run to pages, with
one warning.  Every failure a user can act on becomes one ``BigQueryError`` line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google.auth
import google.oauth2.credentials
import requests
from google.api_core import exceptions as api
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import bigquery
from google.oauth2 import service_account
from singer_sdk.exceptions import FatalAPIError

from tap_bigquery.query import Query
from tapkit.http import scrub

SCOPES = ["https://www.googleapis.com/auth/bigquery"]
LOG = logging.getLogger("tap-bigquery")


class BigQueryError(FatalAPIError):
    """A failure the user can act on, in one line."""


def credentials(config: Mapping[str, Any]) -> tuple[Credentials, str | None]:
    """The settings' credentials and the project they name: ``credentials_json``, else
    ``credentials_path``, else anonymous with ``api_endpoint`` (an emulator), else Application
    Default Credentials."""
    text, setting = config.get("credentials_json"), "credentials_json"
    if not text and config.get("credentials_path"):
        setting = "credentials_path"
        try:
            text = Path(config["credentials_path"]).expanduser().read_text()
        except OSError as exc:
            raise BigQueryError(
                f"credentials_path: cannot read {exc.filename}: {exc.strerror}"
            ) from None
    if text:
        return _from_key(text, setting, _secrets(config))
    if config.get("api_endpoint"):
        # an emulator needs none; and Application Default Credentials would probe the
        # metadata server (169.254.169.254) when nothing else provides them
        return AnonymousCredentials(), None
    try:
        found, project = google.auth.default(scopes=SCOPES)
    except auth.DefaultCredentialsError:
        raise BigQueryError(
            "no credentials: set credentials_path or credentials_json (a service account "
            "key), or provide Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, "
            "gcloud auth application-default login, or the metadata server)"
        ) from None
    return found, project


def _from_key(text: str, setting: str, secrets: list[str]) -> tuple[Credentials, str | None]:
    """A service account key (or a user's ``authorized_user`` file), by its own type: never
    the generic loader, which would also run what an external account file names."""
    try:
        info = json.loads(text)
    except ValueError:
        raise BigQueryError(
            f"{setting}: is not JSON; give a service account key file (its content for credentials_json)"
        ) from None
    kind = info.get("type") if isinstance(info, dict) else None
    try:
        if kind == "service_account":
            found = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
            return found, info.get("project_id")
        if kind == "authorized_user":
            user = google.oauth2.credentials.Credentials.from_authorized_user_info(info, SCOPES)
            return user, info.get("quota_project_id")
    except (ValueError, auth.GoogleAuthError) as exc:
        raise BigQueryError(
            f"{setting}: not usable Google credentials: {_line(scrub(str(exc), secrets))}"
        ) from None
    raise BigQueryError(
        f"{setting}: not usable Google credentials: type {kind!r}, not service_account (a key "
        "file) or authorized_user"
    )


def _secrets(config: Mapping[str, Any]) -> list[str]:
    text = config.get("credentials_json") or ""
    found = [text]
    with contextlib.suppress(ValueError, AttributeError):
        found += [str(v) for k, v in json.loads(text).items() if "key" in k or "secret" in k]
    return found


def _line(text: str) -> str:
    """One line, without the request the client library puts before BigQuery's message."""
    return _REQUEST.sub("", " ".join(text.split()))


_REQUEST = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")


@contextlib.contextmanager
def translated(what: str, config: Mapping[str, Any]) -> Iterator[None]:
    """Google's exceptions as one line saying what failed and which setting to look at."""
    try:
        yield
    except BigQueryError:
        raise
    except auth.RefreshError as exc:
        raise BigQueryError(
            f"{what}: Google refused the credentials ({_line(scrub(str(exc), _secrets(config)))}): "
            "check credentials_path or credentials_json (the key may be deleted or disabled)"
        ) from None
    except auth.TransportError as exc:
        raise BigQueryError(f"{what}: could not reach Google's token endpoint: {exc}") from None
    except api.NotFound as exc:
        raise BigQueryError(
            f"{what}: not found: {_line(exc.message)} (check the stream's table or query, "
            "project_id and location)"
        ) from None
    except (api.Forbidden, api.Unauthorized) as exc:
        raise BigQueryError(
            f"{what}: permission denied: {_line(exc.message)} (the principal needs "
            "roles/bigquery.dataViewer on the data and roles/bigquery.jobUser on project_id)"
        ) from None
    except api.GoogleAPICallError as exc:
        raise BigQueryError(f"{what}: BigQuery refused: {_line(exc.message)}") from None
    except requests.ConnectionError as exc:
        where = config.get("api_endpoint") or "bigquery.googleapis.com"
        raise BigQueryError(f"{what}: cannot reach {where}: {type(exc).__name__}") from None


@dataclass
class Connection:
    """One per tap run, shared by the threads that read slices."""

    config: Mapping[str, Any]
    client: bigquery.Client
    storage: Any = None
    read_api: str = "auto"
    page_size: int = 10_000
    maximum_bytes_billed: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, config: Mapping[str, Any]) -> Connection:
        found, project = credentials(config)
        endpoint = config.get("api_endpoint")
        client = bigquery.Client(
            project=config.get("project_id") or project,
            credentials=found,
            location=config.get("location"),
            client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        )
        if client.project is None:
            raise BigQueryError("project_id: not set, and the credentials name no project")
        read_api = config.get("read_api") or "auto"
        return cls(
            config,
            client,
            storage=_storage_client(config, found) if read_api != "rest" else None,
            read_api=read_api,
            page_size=int(config.get("page_size") or 10_000),
            maximum_bytes_billed=config.get("maximum_bytes_billed"),
        )

    def _job_config(self, query: Query, **options: Any) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(
            query_parameters=query.parameters,
            use_legacy_sql=False,
            maximum_bytes_billed=self.maximum_bytes_billed,
            **options,
        )

    def dry_run(self, query: Query) -> int:
        """The bytes BigQuery would bill for ``query`` (a dry run is free)."""
        config = self._job_config(query, dry_run=True, use_query_cache=False)
        job = self.client.query(query.sql, job_config=config)
        return int(job.total_bytes_processed or 0)

    def schema(self, query: Query) -> list[bigquery.SchemaField]:
        config = self._job_config(query, dry_run=True, use_query_cache=False)
        return list(self.client.query(query.sql, job_config=config).schema or [])

    def one_row(self, query: Query) -> dict[str, Any]:
        job = self.client.query(query.sql, job_config=self._job_config(query))
        return next((dict(row.items()) for row in job.result()), {})

    def pages(self, query: Query) -> Iterator[list[dict[str, Any]]]:
        """The query's rows, in its order, a page at a time."""
        job = self.client.query(query.sql, job_config=self._job_config(query))
        result = job.result(page_size=self.page_size)
        if self.storage is not None and self.read_api != "rest" and job.destination is not None:
            read = self._storage_pages(job.destination)
            if read is not None:
                yield from read
                return
        names = [f.name for f in result.schema]
        for page in result.pages:
            yield [dict(zip(names, row.values(), strict=True)) for row in page]

    def _storage_pages(self, table: Any) -> Iterator[list[dict[str, Any]]] | None:
        """Pages of a query's result table through the Storage Read API, or None (auto only)
        when the server will not open a session on it."""
        from google.cloud.bigquery_storage_v1 import types

        session_spec = types.ReadSession(
            table=f"projects/{table.project}/datasets/{table.dataset_id}/tables/{table.table_id}",
            data_format=types.DataFormat.ARROW,
        )
        try:
            session = self.storage.create_read_session(
                parent=f"projects/{self.client.project}",
                read_session=session_spec,
                max_stream_count=1,  # one stream keeps the query's ORDER BY
            )
        except (
            api.NotFound,
            api.PermissionDenied,
            api.InvalidArgument,
            api.MethodNotImplemented,
        ) as exc:
            if self.read_api == "storage":
                raise BigQueryError(
                    f"the Storage Read API refused to read query results ({_line(exc.message)}): "
                    "grant roles/bigquery.readSessionUser, or set read_api to auto or rest"
                ) from None
            with self._lock:
                if self.read_api == "auto":
                    self.read_api = "rest"
                    LOG.warning(
                        "the Storage Read API cannot read query results here (%s); reading "
                        "getQueryResults pages instead (read_api: rest skips the attempt)",
                        _line(exc.message),
                    )
            return None
        return self._read_stream(session)

    def _read_stream(self, session: Any) -> Iterator[list[dict[str, Any]]]:
        if not session.streams:
            return
        reader = self.storage.read_rows(session.streams[0].name)
        for page in reader.rows(session).pages:
            yield page.to_arrow().to_pylist()


def _storage_client(config: Mapping[str, Any], found: Credentials) -> Any:
    """The Storage Read client: Google's endpoint, ``storage_api_endpoint``, or for an
    emulator (an ``http://`` api_endpoint) plain gRPC at ``storage_api_endpoint``; None for an
    emulator without one."""
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient

    endpoint = config.get("storage_api_endpoint")
    if str(config.get("api_endpoint") or "").startswith("http://"):
        if not endpoint:
            return None
        import grpc
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
            BigQueryReadGrpcTransport,
        )

        channel = grpc.insecure_channel(endpoint)  # emulators speak plain gRPC on loopback
        return BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))
    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    return BigQueryReadClient(credentials=found, client_options=options)
