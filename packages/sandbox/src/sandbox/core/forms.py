"""An OAuth token request's form fields, however the client sent them."""

from __future__ import annotations

import email.parser
import email.policy
from urllib.parse import parse_qs


def form_fields(body: bytes, content_type: str, query: dict[str, list[str]]) -> dict[str, str]:
    """The token request's fields from an urlencoded or multipart body (or the query)."""
    fields = {name: values[-1] for name, values in query.items()}
    if content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                payload = part.get_payload(decode=True)
                text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                fields[str(name)] = text
    elif body:
        fields |= {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return fields
