"""Query parameters as Pinterest reads them: arrays repeated (``?a=1&a=2``, the spec's form
style) or comma-separated (``?a=1,2``, as ``columns`` is declared); 400s name the parameter."""

from __future__ import annotations

import re

DIGITS = re.compile(r"^\d{1,18}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ParameterError(ValueError):
    """A 400 that names the parameter at fault."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def values(query: dict[str, list[str]], name: str) -> list[str]:
    """Every value of an array parameter; empty if it is absent."""
    found: list[str] = []
    for text in query.get(name, []):
        found += [part.strip() for part in text.split(",") if part.strip()]
    return found


def id_list(query: dict[str, list[str]], name: str, maximum: int) -> list[str]:
    ids = values(query, name)
    bad = [i for i in ids if not DIGITS.match(i)]
    if bad:
        raise ParameterError(name, f"{name}: ids are digit strings, got {bad[0][:40]!r}")
    if len(ids) > maximum:
        raise ParameterError(name, f"{name}: at most {maximum} ids per request, got {len(ids)}")
    return list(dict.fromkeys(ids))


def integer(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    text = (query.get(name) or [""])[-1]
    if text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ParameterError(name, f"{name} must be an integer, got {text[:40]!r}") from None
    if not low <= value <= high:
        raise ParameterError(name, f"{name} must be between {low} and {high}, got {value}")
    return value


def choices(
    query: dict[str, list[str]], name: str, allowed: tuple[str, ...], default: tuple[str, ...]
) -> tuple[str, ...]:
    picked = values(query, name)
    unknown = [v for v in picked if v not in allowed]
    if unknown:
        raise ParameterError(
            name, f"{name}: {unknown[0][:40]!r} is not one of {', '.join(allowed)}"
        )
    return tuple(dict.fromkeys(picked)) if picked else default
