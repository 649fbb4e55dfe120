"""The operations the OneTrust sandbox serves, by the reference spec file that declares them.

The trim script copies exactly these into ``openapi/``; the contract tests validate every answer
against those copies.
"""

from __future__ import annotations

TOKEN = "/api/access/v1/oauth/token"
REQUESTS = "/api/datasubject/v2/requestqueues/{language}"
REQUEST_SUBTASKS = "/api/datasubject/v2/requestqueues/{requestQueueRefId}/subtasks"
REQUEST_HISTORY = "/api/datasubject/v2/requestqueues/{requestQueueRefId}/requesthistory"
SUBTASKS = "/api/datasubject/v2/subtasks"
TRANSACTIONS = "/api/consent/v2/transactions"
DATA_SUBJECTS = "/rest/api/consent/v4/datasubjects"
PURPOSES = "/api/consentmanager/v2/purposes"
COLLECTION_POINTS = "/api/consentmanager/v2/collectionpoints"

#: spec file stem (onetrust-<stem>-api-openapi.yml) -> [(method, path)]
SERVED: dict[str, list[tuple[str, str]]] = {
    "oauth-token": [("post", TOKEN)],
    "request-queues": [("get", REQUESTS), ("get", REQUEST_HISTORY)],
    "subtasks": [("get", REQUEST_SUBTASKS), ("get", SUBTASKS)],
    "transactions-v2": [("post", TRANSACTIONS)],
    "data-subjects-v4": [("get", DATA_SUBJECTS)],
    "purposes-v2": [("get", PURPOSES)],
    "collection-points-v2": [("get", COLLECTION_POINTS)],
}
