"""The DSAR reads: the request queue, a request's subtasks and history, and all subtasks.

Every list is a 0-based Spring page with totals (the spec's 200 schemas say a bare array; the
production API and its clients page through ``content``/``totalPages``).  ``modifieddate`` and
``createddate`` take ``yyyyMMdd`` only and mean "on or after that UTC day"; anything else is a
400 naming the parameter.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.onetrust import render
from sandbox.onetrust.dataset import OneTrustData
from sandbox.onetrust.paging import ParameterError, offset_page, ordered, page_and_size, sort_spec
from sandbox.onetrust.times import parse_day

PAGE_DEFAULT, PAGE_MAX = 20, 500
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
REQUEST_SORTS = {
    "dateCreated": "dateCreated",
    "createdDate": "dateCreated",
    "dateUpdated": "dateUpdated",
    "lastModifiedDate": "dateUpdated",
}
SUBTASK_SORTS = {
    "taskName": "subTaskName",
    "createdDate": "subTaskCreatedDate",
    "lastModifiedDate": "subTaskLastUpdatedDate",
}


class NotFoundError(LookupError):
    pass


def _day(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    day = parse_day(text)
    if day is None:
        raise ParameterError(
            name, f"{name} must be a date as yyyyMMdd (e.g. 20190130), got {text!r}"
        )
    return day


def _same(a: str, b: str) -> bool:
    """Stage names compare without case, spaces or underscores (``IN_PROGRESS`` = In Progress)."""
    return (
        a.replace(" ", "").replace("_", "").lower() == b.replace(" ", "").replace("_", "").lower()
    )


def requests(data: OneTrustData, params: dict[str, str], language: str) -> tuple[Any, int]:
    if not LANGUAGE.fullmatch(language):
        raise ParameterError("language", f"language must be a code like en-us, got {language!r}")
    page, size = page_and_size(params, PAGE_DEFAULT, PAGE_MAX)
    modified, created = _day(params, "modifieddate"), _day(params, "createddate")
    field, descending, _ = sort_spec(params, REQUEST_SORTS, "dateCreated,asc")
    status = params.get("status")
    rows = [
        r
        for r in data.requests.values()
        if (modified is None or r["dateUpdated"] >= modified)
        and (created is None or r["dateCreated"] >= created)
        and (not status or _same(r["status"], status))
    ]
    rows = ordered(rows, field, descending, "requestQueueId")
    body = offset_page(rows, page, size, render.request)
    return body, body["numberOfElements"]


def _request(data: OneTrustData, ref: str) -> dict[str, Any]:
    found = data.requests.get(ref)
    if found is None:
        raise NotFoundError(f"Request {ref} was not found")
    return found


def request_subtasks(data: OneTrustData, params: dict[str, str], ref: str) -> tuple[Any, int]:
    """Every subtask of the request, Complete ones included, in creation order."""
    page, size = page_and_size(params, PAGE_DEFAULT, PAGE_MAX)
    parent = _request(data, ref)
    rows = data.subtasks_of(ref)
    body = offset_page(rows, page, size, lambda s: render.subtask(s, parent))
    return body, body["numberOfElements"]


def request_history(data: OneTrustData, params: dict[str, str], ref: str) -> tuple[Any, int]:
    """The request's audit entries, oldest first."""
    page, size = page_and_size(params, PAGE_DEFAULT, PAGE_MAX)
    _request(data, ref)
    body = offset_page(data.history_of(ref), page, size, render.history)
    return body, body["numberOfElements"]


def subtasks(data: OneTrustData, params: dict[str, str]) -> tuple[Any, int]:
    """Subtasks of every live request except Complete ones, as the spec says."""
    page, size = page_and_size(params, PAGE_DEFAULT, PAGE_MAX)
    modified = _day(params, "modifieddate")
    field, descending, _ = sort_spec(params, SUBTASK_SORTS, "createdDate,asc")
    status = params.get("status")
    open_only = params.get("openrequests", "false").lower()
    if open_only not in ("true", "false"):
        raise ParameterError(
            "openrequests", f"openrequests must be true or false, got {open_only!r}"
        )
    rows = []
    for subtask in data.subtasks.values():
        parent = data.requests.get(subtask["requestQueueRefId"])
        if parent is None or subtask["subTaskStatus"] == "Complete":
            continue
        if open_only == "true" and parent["status"] not in ("New", "In Progress"):
            continue
        if modified is not None and subtask["subTaskLastUpdatedDate"] < modified:
            continue
        if status and not _same(subtask["subTaskStatus"], status):
            continue
        rows.append(subtask)
    rows = ordered(rows, field, descending, "subTaskId")

    def shown(subtask: dict[str, Any]) -> dict[str, Any]:
        return render.subtask(subtask, data.requests[subtask["requestQueueRefId"]])

    body = offset_page(rows, page, size, shown)
    return body, body["numberOfElements"]
