"""Records as the API writes them: each family's timestamp shape, fields without a value left
out (the specs declare no field nullable), and a subtask's request fields copied in."""

from __future__ import annotations

from typing import Any

from sandbox.onetrust.times import consent_time, dsar_time, history_time

REQUEST_TIMES = (
    "deadline",
    "dateCreated",
    "dateUpdated",
    "dateCompleted",
    "maxDeadlineExtensionDate",
)
SUBTASK_TIMES = ("subTaskCreatedDate", "subTaskLastUpdatedDate", "subTaskDeadline")
TRANSACTION_TIMES = (
    "consentCreationDate",
    "interactionDate",
    "consentDate",
    "withdrawalDate",
    "expiryDate",
)
PURPOSE_TIMES = ("createdDate", "lastModifiedDate", "publishedDate")


def _present(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


def _times(out: dict[str, Any], names: tuple[str, ...], formatter: Any) -> dict[str, Any]:
    for name in names:
        if out.get(name) is not None:
            out[name] = formatter(out[name])
    return out


def request(record: dict[str, Any]) -> dict[str, Any]:
    return _times(_present(record), REQUEST_TIMES, dsar_time)


def subtask(record: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    out = _times(_present(record), SUBTASK_TIMES, dsar_time)
    out |= {
        "requestQueueId": parent["requestQueueId"],
        "requestApprover": parent["approver"],
        "requestOrgName": parent["organization"],
        "requestQueueDateCreated": dsar_time(parent["dateCreated"]),
        "requestQueueDeadline": dsar_time(parent["deadline"]),
        "requestTypes": list(parent["requestTypes"]),
        "subjectTypes": list(parent["subjectTypes"]),
    }
    return out


def history(entry: dict[str, Any], with_ref: bool = False) -> dict[str, Any]:
    out = {
        "changeDateTime": history_time(entry["changeDateTime"]),
        "recordedDateTime": history_time(entry["recordedDateTime"]),
        "userDetail": dict(entry["userDetail"]),
        "changes": [dict(change) for change in entry["changes"]],
    }
    if with_ref:  # the truth says whose entry it is; the API answer is per request already
        out["requestQueueRefId"] = entry["requestQueueRefId"]
    return out


def transaction(record: dict[str, Any]) -> dict[str, Any]:
    out = _present(record)
    del out["dataSubjectId"]  # ours, to tie transactions to subjects
    out["guid"] = out["transactionGuid"]
    return _times(out, TRANSACTION_TIMES, consent_time)


def data_subject(record: dict[str, Any]) -> dict[str, Any]:
    out = _present(record)
    country = out.pop("country")
    out.pop("displayName")
    out["latestGeoLocation"] = {"dataSubjectId": out["id"], "country": country}
    return _times(out, ("createdDate", "lastTransactionDate", "lastUpdatedDate"), consent_time)


def purpose(record: dict[str, Any]) -> dict[str, Any]:
    """A purpose grouped by id with its versions (the sandbox keeps the latest one)."""
    version = {
        k: record[k]
        for k in (
            "label",
            "status",
            "version",
            "consentLifeSpan",
            "purposeType",
            "createdBy",
            "createdDate",
            "lastModifiedDate",
            "publishedBy",
            "publishedDate",
            "detail",
        )
    }
    return {
        "purposeId": record["purposeId"],
        "createdDate": consent_time(record["createdDate"]),
        "lastModifiedDate": consent_time(record["lastModifiedDate"]),
        "publishedBy": record["publishedBy"],
        "publishedDate": consent_time(record["publishedDate"]),
        "versions": [_times(version, PURPOSE_TIMES, consent_time)],
    }


def collection_point(record: dict[str, Any], purposes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = _present(record)
    out.pop("lastModifiedDate")  # not a field of the collection point DTO; used for sorting
    ids = out.pop("purposeIds")
    out["purposes"] = [
        {
            "id": pid,
            "label": purposes[pid]["label"],
            "status": purposes[pid]["status"],
            "version": purposes[pid]["version"],
            "purposeType": purposes[pid]["purposeType"],
        }
        for pid in ids
    ]
    return _times(
        out, ("createDate", "activationDate", "firstReceiptOn", "lastActivityDate"), consent_time
    )
