"""DSAR records: requests, their subtasks and their audit history, as the generator and the
mutations build them.  Timestamps are integers: epoch milliseconds, history in microseconds."""

from __future__ import annotations

from typing import Any

from sandbox.core.rng import Rng
from sandbox.klaviyo import catalog

DAY_MS = 86_400_000
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OPEN_STATUSES = ("New", "In Progress")
CLOSED_STATUSES = ("Completed", "Rejected")
STATUSES = (*OPEN_STATUSES, *CLOSED_STATUSES)
REQUEST_TYPES = ("Access", "Deletion", "Do Not Sell", "Rectification", "Opt Out")
SUBJECT_TYPES = ("Customer", "Customer", "Customer", "Employee", "Prospect")
#: requester language -> (country code, country name, legal days to answer)
LANGUAGES = {
    "en-us": ("US", "United States", 45),
    "en-gb": ("GB", "United Kingdom", 30),
    "de": ("DE", "Germany", 30),
    "fr": ("FR", "France", 30),
    "ja": ("JP", "Japan", 30),
}
LANGUAGE_WEIGHTS = ("en-us", "en-us", "en-us", "en-gb", "de", "de", "fr", "ja")
APPROVERS = ("Priya Raman", "Tomás Ortega", "Hana Kobayashi", "Ada Okoye")
SUBTASK_NAMES = (
    ("Verify identity", "Confirm the requester controls the email address."),
    ("Search CRM", "Collect the subject's records from the CRM."),
    ("Search data warehouse", "Query the warehouse for the subject's rows."),
    ("Purge marketing tools", "Remove the subject from email and ad audiences."),
    ("Send response letter", "Send the final response to the requester."),
)
SUBTASK_OPEN = ("Assigned", "In Progress")
EXTENSION_MS = 60 * DAY_MS
RESOLUTIONS = {"Completed": "Request fulfilled", "Rejected": "Identity could not be verified"}


def ref_id(rng: Rng) -> str:
    """A 10-character request reference, like OneTrust's."""
    return "".join(REF_ALPHABET[rng.below(len(REF_ALPHABET))] for _ in range(10))


def user(rng: Rng, name: str | None = None) -> dict[str, Any]:
    name = name or rng.choice(APPROVERS)
    local = name.split()[0].lower().replace("á", "a")
    return {
        "email": f"{local}@privacy.example.com",
        "fullName": name,
        "userId": rng.uuid4(),
        "internal": True,
        "disabled": False,
        "deleted": False,
    }


def new_request(rng: Rng, number: int, created: int) -> dict[str, Any]:
    """An open request as submitted through the web form at ``created`` (epoch ms)."""
    first, first_ascii = rng.choice(catalog.FIRST_NAMES)
    last, last_ascii = rng.choice(catalog.LAST_NAMES)
    language = rng.choice(LANGUAGE_WEIGHTS)
    country, country_name, days = LANGUAGES[language]
    types = [rng.choice(REQUEST_TYPES)]
    if rng.chance(0.15):
        types.append(rng.choice([t for t in REQUEST_TYPES if t != types[0]]))
    return {
        "requestQueueRefId": ref_id(rng),
        "requestQueueId": rng.uuid4(),
        "firstName": first,
        "lastName": last,
        "email": f"{first_ascii}.{last_ascii}.{number}@example.com",
        "organization": "Tapworks Sandbox Co.",
        "status": "New",
        "requestTypes": types,
        "subjectTypes": [rng.choice(SUBJECT_TYPES)],
        "deadline": created + days * DAY_MS,
        "isExtended": False,
        "dateCreated": created,
        "dateUpdated": created,
        "approver": rng.choice(APPROVERS),
        "language": language,
        "countryCode": country,
        "countryName": country_name,
        "workflow": "Default Workflow",
        "webform": "Privacy Request Form",
        "dateCompleted": None,
        "resolution": None,
        "assignedToGroup": rng.chance(0.2),
    }


def extend(request: dict[str, Any]) -> None:
    """The legal extension (e.g. two more months under GDPR)."""
    if not request["isExtended"]:
        request["isExtended"] = True
        request["deadline"] += EXTENSION_MS
        request["maxDeadlineExtensionDate"] = request["deadline"]


def close(request: dict[str, Any], status: str, moment: int) -> None:
    request["status"] = status
    request["dateCompleted"] = moment
    request["resolution"] = RESOLUTIONS[status]
    request["dateUpdated"] = max(request["dateUpdated"], moment)


def history_entry(
    rng: Rng, request: dict[str, Any], moment_ms: int, field: str, old: str | None, new: str
) -> dict[str, Any]:
    """One audit entry: ``changeDateTime`` in microseconds, within ``moment_ms``'s millisecond."""
    change = moment_ms * 1000 + rng.below(1000)
    change_entry: dict[str, Any] = {"fieldName": field, "newValue": {"name": new}}
    if old is not None:
        change_entry["oldValue"] = {"name": old}
    return {
        "requestQueueRefId": request["requestQueueRefId"],
        "changeDateTime": change,
        "recordedDateTime": change + rng.below(1000 - change % 1000),
        "userDetail": user(rng),
        "changes": [change_entry],
    }


def new_subtask(rng: Rng, request: dict[str, Any], index: int, created: int) -> dict[str, Any]:
    name, description = SUBTASK_NAMES[index % len(SUBTASK_NAMES)]
    return {
        "subTaskId": rng.uuid4(),
        "requestQueueRefId": request["requestQueueRefId"],
        "subTaskName": name,
        "subTaskDescription": description,
        "subTaskType": "Manual" if rng.chance(0.7) else "System",
        "subTaskStatus": "Assigned",
        "subTaskAssignee": rng.choice(APPROVERS),
        "subTaskRequired": rng.chance(0.6),
        "subTaskCreatedDate": created,
        "subTaskLastUpdatedDate": created,
        "subTaskDeadline": request["deadline"] - 2 * DAY_MS,
        "subTaskResolution": None,
        "assignedToGroup": False,
    }


def advance_subtask(subtask: dict[str, Any], moment: int, complete: bool = False) -> str:
    """Assigned -> In Progress -> Complete (``complete`` goes straight there); its old status."""
    old = subtask["subTaskStatus"]
    if complete or old == "In Progress":
        subtask["subTaskStatus"] = "Complete"
        subtask["subTaskResolution"] = "Completed"
    elif old == "Assigned":
        subtask["subTaskStatus"] = "In Progress"
    subtask["subTaskLastUpdatedDate"] = moment
    return old
