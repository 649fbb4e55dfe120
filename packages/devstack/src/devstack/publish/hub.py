"""Validate definitions as MeltanoHub does, and lay them out as its static API and its repository.

- ``build_api(definitions, out, base_url)``: ``out/meltano/api/v1/plugins/index``,
  ``.../plugins/<type>/index`` and ``.../plugins/<type>/<name>--<variant>``, refs absolute, as
  Meltano reads them (``MELTANO_HUB_URL=<base_url>``); logos under ``out/assets/logos``.
- ``build_repo(definitions, out)``: ``_data/meltano/<type>/<name>/<variant>.yml``,
  ``_data/default_variants.yml``, ``_data/maintainers.yml``: a pull request to meltano/hub is a copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from devstack.publish.catalog import MAINTAINER

#: Where two variants of a plugin are published, ours is the one `meltano add` picks.
DEFAULT_VARIANT = "tapworks"
PLUGIN_TYPES = (
    "extractors",
    "files",
    "loaders",
    "mappers",
    "orchestrators",
    "transformers",
    "transforms",
    "utilities",
)
# Keys the hub keeps for its website and leaves out of the API documents Meltano reads.
WEBSITE_ONLY = (
    "keywords",
    "maintenance_status",
    "domain_url",
    "definition",
    "next_steps",
    "settings_preamble",
    "usage",
    "prereq",
    "quality",
)
API_PREFIX = ("meltano", "api", "v1")


class HubSchemas:
    def __init__(self, root: Path) -> None:
        resources = []
        for path in root.rglob("*.schema.json"):
            schema = json.loads(path.read_text())
            relative = path.relative_to(root).as_posix()
            resources.append((relative, Resource.from_contents(schema)))
        self.registry = Registry().with_resources(resources)
        self.root = root

    def errors(self, schema: str, document: Any) -> list[str]:
        """What is wrong with ``document`` under ``schema`` (e.g. ``plugin_definitions/extractors.schema.json``)."""
        validator = Draft7Validator({"$ref": schema}, registry=self.registry)
        messages = []
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            messages.append(f"{where}: {error.message}")
        return messages


def load_definitions(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(directory.glob("*/*.yml")):
        found.append((path.parent.name, yaml.safe_load(path.read_text())))
    return found


def validate(schemas: HubSchemas, definitions: list[tuple[str, dict[str, Any]]]) -> list[str]:
    problems = []
    for plugin_type, definition in definitions:
        for message in schemas.errors(f"plugin_definitions/{plugin_type}.schema.json", definition):
            problems.append(
                f"{plugin_type}/{definition.get('name')}--{definition.get('variant')}: {message}"
            )
    return problems


def build_api(
    definitions: list[tuple[str, dict[str, Any]]],
    logos: Path,
    out: Path,
    base_url: str,
    schemas: HubSchemas,
) -> list[str]:
    """Write the API files; return schema problems with them (none expected)."""
    api = out.joinpath(*API_PREFIX)
    api_url = "/".join([base_url.rstrip("/"), *API_PREFIX])
    if out.exists():
        shutil.rmtree(out)
    indexes: dict[str, dict[str, Any]] = {t: {} for t in PLUGIN_TYPES}
    problems = []
    for plugin_type, definition in definitions:
        name, variant = definition["name"], definition["variant"]
        document = {k: v for k, v in definition.items() if k not in WEBSITE_ONLY}
        document["logo_url"] = base_url.rstrip("/") + definition["logo_url"]
        document["docs"] = definition.get("docs")
        problems += [
            f"api {plugin_type}/{name}: {m}"
            for m in schemas.errors(f"api/{plugin_type}.schema.json", document)
        ]
        _write_json(api / "plugins" / plugin_type / f"{name}--{variant}", document)
        entry = indexes[plugin_type].setdefault(
            name, {"logo_url": document["logo_url"], "default_variant": variant, "variants": {}}
        )
        entry["variants"][variant] = {"ref": f"{api_url}/plugins/{plugin_type}/{name}--{variant}"}
        if variant == DEFAULT_VARIANT:
            entry["default_variant"] = variant
        logo = logos / Path(definition["logo_url"]).name
        target = out / definition["logo_url"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(logo, target)
    for plugin_type, index in indexes.items():
        problems += [
            f"api {plugin_type}/index: {m}"
            for m in schemas.errors("api/plugin_type_index.schema.json", index)
        ]
        _write_json(api / "plugins" / plugin_type / "index", index)
    problems += [
        f"api plugins/index: {m}" for m in schemas.errors("api/plugins_index.schema.json", indexes)
    ]
    _write_json(api / "plugins" / "index", indexes)
    return problems


def build_repo(definitions: list[tuple[str, dict[str, Any]]], logos: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    data = out / "_data"
    default_variants: dict[str, dict[str, str]] = {t: {} for t in PLUGIN_TYPES}
    maintainers = {}
    for plugin_type, definition in definitions:
        name, variant = definition["name"], definition["variant"]
        path = data / "meltano" / plugin_type / name / f"{variant}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            yaml.safe_dump(
                dict(sorted(definition.items())), sort_keys=False, allow_unicode=True, width=100
            )
        )
        if variant == DEFAULT_VARIANT or name not in default_variants[plugin_type]:
            default_variants[plugin_type][name] = variant
        maintainers[variant] = (
            {**MAINTAINER, "label": variant, "name": variant}
            if variant != "tapworks"
            else MAINTAINER
        )
        target = out / "static" / definition["logo_url"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(logos / Path(definition["logo_url"]).name, target)
    (data / "default_variants.yml").write_text(yaml.safe_dump(default_variants, sort_keys=True))
    (data / "maintainers.yml").write_text(yaml.safe_dump(maintainers, sort_keys=True))


def _write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
