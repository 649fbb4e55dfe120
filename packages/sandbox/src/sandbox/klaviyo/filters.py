"""Klaviyo's filter grammar: parse ``?filter=`` and check it against what an operation allows.

    filter     := expression ("," expression)*          top-level commas mean AND
    expression := and(e, ...) | or(e, ...) | not(e) | operator(field[, value])
    value      := 'text' | "text" | [value, ...] | bare  bare: datetime, number, true, false, null

Datetimes are unquoted ISO 8601 with ``Z`` or an offset (a quoted one is refused, as Klaviyo
does).  Every mistake raises ``FilterError`` naming the field, operator or character at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.klaviyo.spec import FilterField

COMPARISONS = frozenset(
    {
        "equals",
        "any",
        "greater-than",
        "greater-or-equal",
        "less-than",
        "less-or-equal",
        "contains",
        "contains-any",
        "contains-all",
        "starts-with",
        "ends-with",
        "has",
    }
)
LOGICAL = frozenset({"and", "or", "not"})
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Comparison:
    operator: str
    field: str
    value: (
        Any  # str | int | float | bool | None | tuple(...) for lists; epoch seconds for datetimes
    )
    arity: str  # "single" | "list" | "none"


@dataclass(frozen=True)
class Logical:
    operator: str  # and | or | not
    operands: tuple[Node, ...]


Node = Comparison | Logical


@dataclass(frozen=True)
class _Raw:
    """A value as written, before the field tells us how to read it."""

    text: str
    quoted: bool


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> FilterError:
        return FilterError(f"{message} at character {self.pos + 1} of the filter {self.text!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = repr(self.peek()) if self.peek() else "the end"
            raise self.fail(f"expected {char!r} but found {found}")
        self.pos += 1

    def skip_spaces(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "_-.$"
        ):
            self.pos += 1
        if start == self.pos:
            raise self.fail("expected an operator or field name")
        return self.text[start : self.pos]

    def top(self) -> list[Any]:
        items = [self.expression()]
        while self.peek() == ",":
            self.pos += 1
            items.append(self.expression())
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the last expression")
        return items

    def expression(self) -> Any:
        self.skip_spaces()
        operator = self.name()
        if operator not in COMPARISONS and operator not in LOGICAL:
            raise FilterError(f"'{operator}' is not a filter operator")
        self.expect("(")
        if operator in LOGICAL:
            operands = [self.expression()]
            while self.peek() == ",":
                self.pos += 1
                operands.append(self.expression())
            self.expect(")")
            if operator == "not" and len(operands) != 1:
                raise FilterError("not() takes exactly one expression")
            return ("logical", operator, operands)
        self.skip_spaces()
        field = self.name()
        value: Any = None
        arity = "none"
        if self.peek() == ",":
            self.pos += 1
            self.skip_spaces()
            value, arity = self.value()
        self.skip_spaces()
        self.expect(")")
        return ("comparison", operator, field, value, arity)

    def value(self) -> tuple[Any, str]:
        if self.peek() == "[":
            self.pos += 1
            items: list[_Raw] = []
            self.skip_spaces()
            if self.peek() != "]":
                items.append(self.scalar())
                self.skip_spaces()
                while self.peek() == ",":
                    self.pos += 1
                    self.skip_spaces()
                    items.append(self.scalar())
                    self.skip_spaces()
            self.expect("]")
            return tuple(items), "list"
        return self.scalar(), "single"

    def scalar(self) -> _Raw:
        quote = self.peek()
        if quote in ("'", '"'):
            self.pos += 1
            chars = []
            while True:
                if self.pos >= len(self.text):
                    raise self.fail("unterminated quoted value")
                char = self.text[self.pos]
                if char == "\\" and self.pos + 1 < len(self.text):
                    chars.append(self.text[self.pos + 1])
                    self.pos += 2
                    continue
                self.pos += 1
                if char == quote:
                    return _Raw("".join(chars), quoted=True)
                chars.append(char)
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",)]":
            self.pos += 1
        raw = self.text[start : self.pos].strip()
        if not raw:
            raise self.fail("expected a value")
        return _Raw(raw, quoted=False)


def parse_filter(text: str, allowed: dict[str, FilterField]) -> list[Node]:
    """Parse and validate; the result is the list of top-level (AND-ed) expressions."""
    if not text.strip():
        raise FilterError("the filter is empty")
    return [_validate(item, allowed) for item in _Parser(text).top()]


def _validate(item: Any, allowed: dict[str, FilterField]) -> Node:
    if item[0] == "logical":
        _, operator, operands = item
        return Logical(operator, tuple(_validate(o, allowed) for o in operands))
    _, operator, field_name, raw, arity = item
    field = allowed.get(field_name)
    if field is None:
        valid = ", ".join(sorted(allowed)) or "none"
        raise FilterError(
            f"'{field_name}' is not a valid filter field for this endpoint. Valid fields: {valid}"
        )
    permitted = {"single": field.single, "list": field.many, "none": field.bare}[arity]
    if operator not in permitted:
        valid = ", ".join(sorted(field.operators))
        shape = {"single": "a single value", "list": "a list", "none": "no value"}[arity]
        raise FilterError(
            f"'{operator}' with {shape} is not a valid operator for field '{field_name}'. "
            f"Valid operators: {valid}"
        )
    if arity == "list":
        value: Any = tuple(_typed(r, field) for r in raw)
    elif arity == "single":
        value = _typed(raw, field)
    else:
        value = None
    return Comparison(operator, field_name, value, arity)


def _typed(raw: _Raw, field: FilterField) -> Any:
    name = field.name
    if field.value_format == "date-time":
        if raw.quoted:
            raise FilterError(
                f"datetime values must not be quoted: field '{name}' got '{raw.text}'"
            )
        return parse_filter_datetime(raw.text, name)
    if field.value_type == "number":
        if raw.quoted or not _NUMBER.fullmatch(raw.text):
            raise FilterError(f"field '{name}' takes a number, got {raw.text!r}")
        return float(raw.text) if "." in raw.text else int(raw.text)
    if field.value_type == "boolean":
        if raw.quoted or raw.text not in ("true", "false"):
            raise FilterError(f"field '{name}' takes true or false, got {raw.text!r}")
        return raw.text == "true"
    if raw.text == "null" and not raw.quoted:
        return None
    if not raw.quoted:
        raise FilterError(f"string values must be quoted: field '{name}' got {raw.text!r}")
    if field.enum is not None and raw.text not in field.enum:
        raise FilterError(
            f"'{raw.text}' is not a valid value for field '{name}'. Valid values: {', '.join(field.enum)}"
        )
    return raw.text


def parse_filter_datetime(text: str, field: str) -> int | float:
    """An unquoted filter datetime to epoch seconds (no offset means UTC)."""
    if not _DATETIME.fullmatch(text):
        hint = ""
        if " " in text:
            hint = " (a '+' in the offset must be URL-encoded as %2B, or it arrives as a space)"
        raise FilterError(f"'{text}' is not a valid datetime for field '{field}'{hint}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = value.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def conjuncts(nodes: list[Node]) -> list[Node]:
    """The expressions AND-ed at the top, with nested and() unwrapped."""
    found: list[Node] = []
    for node in nodes:
        if isinstance(node, Logical) and node.operator == "and":
            found.extend(conjuncts(list(node.operands)))
        else:
            found.append(node)
    return found
