"""OneTrust streams: each a declarative header over ``OneTrustStream``.

DSAR requests are the seeds' "historical backfill + incremental" case: the record keeps
``dateUpdated`` to the millisecond, the API filters by day and from below only.  The first
load walks calendar months by ``createddate`` (sorted by creation, each month's read stopped
at its end, state after each month, resumable); later runs ask for
``modifieddate=<bookmark day>`` and keep what is at or after the bookmark, so requests tied
at the bookmark are read again (and upserted), never skipped.  Subtasks and history are read
for each request read: changing either updates the request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import requests
from singer_sdk.helpers.types import Context

from tap_onetrust.client import OneTrustStream, Paging
from tapkit.incremental import ApiFilter, Incremental, Op
from tapkit.timeformats import ISO8601_NO_ZONE, YYYYMMDD
from tapkit.transport import Request
from tapkit.windows import Months, WindowPolicy

#: The v4 data-subject API answers 403 with this when the tenant does not have it enabled.
V4_DISABLED_HINT = "not enabled"


class DsarRequestsStream(OneTrustStream):
    """Data subject requests of every status, in the configured language's rendering."""

    name = "dsar_requests"
    path = "/api/datasubject/v2/requestqueues/{language}"
    primary_keys = ("requestQueueId",)
    incremental = Incremental(
        "dateUpdated",
        api_filter=ApiFilter("modifieddate", Op.GTE, YYYYMMDD),
        historical_filter=ApiFilter(
            "createddate", Op.GTE, YYYYMMDD, stops_at="dateCreated", on_key=False
        ),
        windows=WindowPolicy(Months()),
        resumable_backfill=True,
    )

    def sort_for(self, request: Request) -> str:
        """By creation while backfilling (a month's read stops at its end); newest update
        first after, so a request updated while paging moves to a page already read (and is
        read by the next run) instead of pushing an unread one past a page boundary."""
        return "dateCreated,asc" if request.stops_at else "dateUpdated,desc"

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        return {"requestQueueRefId": record["requestQueueRefId"]}


class DsarSubtasksStream(OneTrustStream):
    """Every subtask of each request read (the request list's own subtask endpoint, which
    includes completed ones; the tenant-wide list leaves them out)."""

    name = "dsar_subtasks"
    path = "/api/datasubject/v2/requestqueues/{requestQueueRefId}/subtasks"
    primary_keys = ("subTaskId",)
    parent_stream_type = DsarRequestsStream
    state_partitioning_keys: ClassVar[list[str]] = []
    max_page_size = 50


class DsarRequestHistoryStream(OneTrustStream):
    """Each request's audit trail: who changed what, when."""

    name = "dsar_request_history"
    path = "/api/datasubject/v2/requestqueues/{requestQueueRefId}/requesthistory"
    primary_keys = ("requestQueueRefId", "recordedDateTime")
    parent_stream_type = DsarRequestsStream
    state_partitioning_keys: ClassVar[list[str]] = []

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        assert context is not None
        row["requestQueueRefId"] = context["requestQueueRefId"]
        return super().post_process(row, context)


class ConsentTransactionsStream(OneTrustStream):
    """Every consent transaction (a data subject's choice on a purpose at a collection
    point), in windows of at most 24 hours, the API's limit."""

    name = "consent_transactions"
    path = "/api/consent/v2/transactions"
    http_method = "POST"
    primary_keys = ("transactionGuid",)
    incremental = Incremental(
        "consentCreationDate",
        ApiFilter("fromDate", Op.GTE, ISO8601_NO_ZONE, upper_field="toDate", upper_op=Op.LT),
        windows=WindowPolicy(timedelta(hours=24), api_maximum=timedelta(hours=24)),
    )
    window_setting = ("consent_window_hours", timedelta(hours=1))
    paging = Paging.BODY_TOKEN
    max_page_size = 50
    sort = "consentCreationDate,asc"


class DataSubjectsStream(OneTrustStream):
    """Data subjects (v4) by last update, in windows of at most 7 days.  A tenant without
    the v4 APIs enabled gets a one-line warning and no records."""

    name = "data_subjects"
    path = "/rest/api/consent/v4/datasubjects"
    primary_keys = ("id",)
    incremental = Incremental(
        "lastUpdatedDate",
        ApiFilter("fromDate", Op.GTE, ISO8601_NO_ZONE, upper_field="toDate", upper_op=Op.LT),
        windows=WindowPolicy(timedelta(days=7), api_maximum=timedelta(days=7)),
    )
    window_setting = ("data_subject_window_days", timedelta(days=1))
    paging = Paging.HEADER_TOKEN
    max_page_size = 50
    sort = "lastModifiedDate,asc"

    def validate_response(self, response: requests.Response) -> None:
        if response.status_code == 403 and V4_DISABLED_HINT in response.text.lower():
            raise V4DisabledError(response.text)
        super().validate_response(response)

    def get_records(self, context: Context | None) -> Any:
        try:
            yield from super().get_records(context)
        except V4DisabledError:
            self.halted.clear()  # only this stream stops
            self.logger.warning(
                "data_subjects: skipped: the tenant does not have the Data Subjects V4 APIs "
                "enabled (OneTrust answers 403). Ask OneTrust support to enable them, or "
                "deselect the stream."
            )


class V4DisabledError(Exception):
    """The tenant has the v4 data-subject APIs switched off."""


class PurposesStream(OneTrustStream):
    """Consent purposes with their versions; a handful of rows, read whole each run."""

    name = "purposes"
    path = "/api/consentmanager/v2/purposes"
    primary_keys = ("purposeId",)
    max_page_size = 100


class CollectionPointsStream(OneTrustStream):
    """Where consent is collected (web forms, APIs, SDKs); read whole each run."""

    name = "collection_points"
    path = "/api/consentmanager/v2/collectionpoints"
    primary_keys = ("id",)
    max_page_size = 100


STREAMS: tuple[type[OneTrustStream], ...] = (
    DsarRequestsStream,
    DsarSubtasksStream,
    DsarRequestHistoryStream,
    ConsentTransactionsStream,
    DataSubjectsStream,
    PurposesStream,
    CollectionPointsStream,
)
