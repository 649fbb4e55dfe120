"""Plugin definitions generated from each plugin's ``--about --format=json``.

Two outputs from one source, so neither can drift from the code:

- ``plugins/definitions/<type>/<name>--<variant>.yml``: the hub-format definition (what a
  public or private hub serves; ``pip_url``, the package name unpinned, installs from a
  package index);
- ``plugins/<type>.meltano.yml``: this project's plugin entries (same settings; installed from
  this repository, plus the project's own configuration).
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from devstack.publish.catalog import MAINTAINER, PLUGINS, PROJECT_URL, Plugin

HUB_ONLY = ("domain_url", "keywords", "maintenance_status", "quality")
# Settings holding credentials even when a plugin's --about does not say so (hub-utils' rule,
# plus URLs that embed a password).
SECRET_NAMES = ("password", "secret", "token", "api_key", "private_key", "sqlalchemy_url")


class PublishError(RuntimeError):
    pass


def about(plugin: Plugin) -> dict[str, Any]:
    done = subprocess.run(plugin.about_command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PublishError(
            f"`{' '.join(plugin.about_command)}` failed: {done.stderr.strip()[-500:]}"
        )
    return json.loads(done.stdout)


def settings_from_schema(schema: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Meltano settings for a JSON Schema's properties, one per top-level property.

    Objects stay one setting (set as a whole, or as ``page_sizes.events`` in meltano.yml): had
    they dotted sub-settings, Meltano would assemble the object from them, unset ones as nulls,
    and a null ``stream_maps.__else__`` tells singer-sdk to drop every unmapped stream.
    """
    settings = []
    for name, prop in schema.get("properties", {}).items():
        setting: dict[str, Any] = {"name": name, "label": _label(name), "kind": _kind(name, prop)}
        description = prop.get("description", "").strip()
        if prop.get("additionalProperties") is False and prop.get("properties"):
            if description and not description.endswith("."):
                description += "."
            description = f"{description} Keys: {', '.join(prop['properties'])}.".strip()
        if description:
            setting["description"] = description
        if prop.get("aliases"):  # other variants' names for it (tapkit's setting_aliases)
            setting["aliases"] = list(prop["aliases"])
        if _secret(name, prop):
            setting["kind"] = "password"
            setting["sensitive"] = True
        enum = (
            prop.get("enum") or (prop.get("items") or {}).get("enum")
            if setting["kind"] == "options"
            else None
        )
        if enum:
            setting["options"] = [{"label": str(v), "value": v} for v in enum]
        value = values.get(name, prop.get("default"))
        if value is not None:
            setting["value"] = value
        settings.append(setting)
    return settings


def _types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type")
    return [
        t for t in (declared if isinstance(declared, list) else [declared]) if t and t != "null"
    ]


def _secret(name: str, prop: dict[str, Any]) -> bool:
    # A setting naming where a secret is kept (refresh_token_file) is not one itself.
    is_text = "string" in _types(prop) and not name.endswith(("_file", "_path", "_dir"))
    return bool(prop.get("secret")) or (is_text and any(word in name for word in SECRET_NAMES))


def _kind(name: str, prop: dict[str, Any]) -> str:
    types = _types(prop)
    kind = types[0] if types else "string"
    if prop.get("secret"):
        return "password"
    if prop.get("format") in ("date-time", "date") or name.endswith(("start_date", "end_date")):
        return "date_iso8601"
    if kind == "string" and prop.get("enum"):
        return "options"
    return {
        "integer": "integer",
        "number": "decimal",
        "boolean": "boolean",
        "object": "object",
        "array": "array",
    }.get(kind, "string")


def _label(name: str) -> str:
    words = name.replace("_", " ").split()
    return " ".join(
        {"sqlalchemy": "SQLAlchemy"}.get(
            w, w.upper() if w in ("api", "url", "id", "ssl", "ssh") else w.capitalize()
        )
        for w in words
    )


def hub_definition(plugin: Plugin, info: dict[str, Any], logo_url: str) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": plugin.name,
        "namespace": plugin.namespace,
        "variant": plugin.variant,
        "label": plugin.label,
        # A docstring's line breaks and indentation are not part of the description.
        "description": " ".join(str(info.get("description") or plugin.label).split()),
        "pip_url": plugin.distribution,
        "executable": info["name"],
        "repo": plugin.repo,
        "docs": plugin.docs,
        "logo_url": logo_url,
        "domain_url": plugin.domain_url,
        "keywords": list(plugin.keywords),
        "capabilities": sorted(info.get("capabilities", [])),
        "settings": settings_from_schema(info["settings"], plugin.values),
        "maintenance_status": "active",
        "quality": plugin.quality,
        "supported_python_versions": info.get("supported_python_versions")
        or ["3.11", "3.12", "3.13"],
        **plugin.extra,
    }
    required = info["settings"].get("required") or []
    if required:
        definition["settings_group_validation"] = [required]
    return dict(sorted(definition.items()))


def project_entry(plugin: Plugin, definition: dict[str, Any]) -> dict[str, Any]:
    skipped = (*HUB_ONLY, "variant", "repo", "docs", "logo_url", "supported_python_versions")
    entry = {
        "name": plugin.project_name or definition["name"],
        "namespace": definition["namespace"],
    }
    entry.update({k: v for k, v in definition.items() if k not in (*skipped, *entry)})
    entry["pip_url"] = plugin.project_pip_url
    if plugin.project_config:
        entry["config"] = plugin.project_config
    return entry


def render(root: Path) -> dict[Path, str]:
    """Every generated file, by path, with its content."""
    files: dict[Path, str] = {}
    project: dict[str, list[dict[str, Any]]] = {}
    comments: dict[str, list[str]] = {}
    # each --about is a process of its own, mostly imports: run them side by side
    with ThreadPoolExecutor(max_workers=4) as pool:
        infos = list(pool.map(about, PLUGINS))
    for plugin, info in zip(PLUGINS, infos, strict=True):
        definition = hub_definition(plugin, info, f"/assets/logos/{plugin.type}/{plugin.logo}")
        path = (
            root / "plugins" / "definitions" / plugin.type / f"{plugin.name}--{plugin.variant}.yml"
        )
        files[path] = _yaml(
            definition,
            f"Generated by `devstack definitions` from `{info['name']} --about`: do not edit.",
        )
        project.setdefault(plugin.type, []).append(project_entry(plugin, definition))
        if plugin.project_comment:
            comments.setdefault(plugin.type, []).append(plugin.project_comment)
    for plugin_type, entries in project.items():
        header = [
            "Generated by `devstack definitions` from the plugins' --about and the recommended",
            "values in packages/devstack/src/devstack/publish/catalog.py: do not edit.",
            *comments.get(plugin_type, []),
        ]
        files[root / "plugins" / f"{plugin_type}.meltano.yml"] = _yaml(
            {"plugins": {plugin_type: entries}}, "\n".join(header)
        )
    return files


def write(root: Path) -> list[Path]:
    written = []
    for path, text in render(root).items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(path)
    return written


def stale(root: Path) -> list[Path]:
    """Generated files that differ from what the code says now."""
    return [
        path for path, text in render(root).items() if not path.exists() or path.read_text() != text
    ]


def _yaml(data: Any, comment: str) -> str:
    header = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


__all__ = ["MAINTAINER", "PROJECT_URL", "PublishError", "render", "stale", "write"]
