"""JSON:API resources to flat Singer records: ``id``, attributes as columns, related ids."""

from __future__ import annotations

from typing import Any


def relation_column(name: str, to_many: bool) -> str:
    """``profile`` -> ``profile_id``; ``campaign-messages`` -> ``campaign_message_ids``."""
    base = name.replace("-", "_")
    if to_many:
        return (base[:-1] if base.endswith("s") else base) + "_ids"
    return base + "_id"


def flatten(resource: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"id": resource["id"], **(resource.get("attributes") or {})}
    for name, relation in (resource.get("relationships") or {}).items():
        if "data" not in relation:
            continue
        data = relation["data"]
        if isinstance(data, list):
            record[relation_column(name, True)] = [item["id"] for item in data]
        else:
            record[relation_column(name, False)] = data["id"] if data else None
    return record
