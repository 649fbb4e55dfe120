"""``devstack publish``: definitions, validation, hub files, packages, in order; the first failure stops it."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

from devstack.publish import definitions, hub, packages
from devstack.publish.definitions import PublishError


def publish(root: Path, hub_url: str, index_url: str | None, out: Path) -> None:
    step(1, "plugin definitions from --about")
    written = definitions.write(root)
    print(f"   {len(written)} file(s) changed" if written else "   up to date")

    step(2, "validation against MeltanoHub's schemas")
    schemas = hub.HubSchemas(root / "plugins" / "hub-schemas")
    found = hub.load_definitions(root / "plugins" / "definitions")
    if problems := hub.validate(schemas, found):
        raise PublishError("definitions do not validate:\n  " + "\n  ".join(problems))
    print(f"   {len(found)} definition(s) valid")

    step(3, f"hub files for {hub_url}")
    logos = root / "plugins" / "definitions" / "logos"
    if problems := hub.build_api(found, logos, out / "hub", hub_url, schemas):
        raise PublishError("hub API files do not validate:\n  " + "\n  ".join(problems))
    ours = [(t, d) for t, d in found if d["variant"] == "tapworks"]
    hub.build_repo(ours, logos, out / "hub-repo")
    print(
        f"   static hub in {out / 'hub'}; files for a meltano/hub pull request in {out / 'hub-repo'}"
    )

    step(4, "packages")
    files = packages.build(root, out / "packages")
    packages.check(files)
    print(f"   built and checked: {', '.join(f.name for f in files)}")
    if index_url:
        packages.upload(files, index_url)
        print(f"   uploaded to {index_url}")


def step(number: int, title: str) -> None:
    print(f"{number}. {title}", flush=True)


def serve_hub(directory: Path, port: int) -> None:
    """Serve the static hub (any static server would do) on 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"hub at http://127.0.0.1:{server.server_address[1]}  (MELTANO_HUB_URL)", flush=True)
        server.serve_forever()
