"""The floor for B2: the least a Klaviyo extractor can do. From each first-page URL (one per
line of URLS_FILE: the tap's windows and partitions) fetch the pages with requests, follow
``links.next``, write one Singer RECORD line per resource with msgspec. No schema, no state, no
validation, no retries.

    python bench/floor.py STREAM URLS_FILE > /dev/null
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import requests


class Links(msgspec.Struct):
    next: str | None = None


class Page(msgspec.Struct):
    data: list[dict[str, object]]
    links: Links


def main() -> None:
    stream, urls = sys.argv[1], Path(sys.argv[2]).read_text().split()
    session = requests.Session()
    session.headers.update({"Authorization": "Klaviyo-API-Key pk_bench", "revision": "2026-07-15"})
    encode, out = msgspec.json.Encoder().encode, sys.stdout.buffer
    now = datetime.now(UTC).isoformat()
    for url in urls:
        next_url: str | None = url
        while next_url:
            response = session.get(next_url, timeout=60)
            response.raise_for_status()
            page = msgspec.json.decode(response.content, type=Page)
            out.write(
                b"".join(
                    encode({"type": "RECORD", "stream": stream, "record": r, "time_extracted": now})
                    + b"\n"
                    for r in page.data
                )
            )
            next_url = page.links.next
    out.flush()


if __name__ == "__main__":
    main()
