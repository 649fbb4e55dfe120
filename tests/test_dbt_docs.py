"""The dbt project documents itself: every model, column, source table and source column says
what it is, each model's yml declares exactly the columns its SQL selects, and a text used in
several places is written once, as a {% docs %} block.

Read from the files (yml, SQL, docs blocks), no dbt run: the SQL is parsed just enough to list
a select's output names, following `select *` and `x.*` into CTEs and ref()'d models.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MODELS = Path(__file__).resolve().parents[1] / "transform" / "models"
LAYERS = ("staging", "intermediate", "marts")

DOCS_BLOCK = re.compile(r"\{%-?\s*docs\s+(\w+)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}", re.S)
DOC_CALL = re.compile(r"\{\{\s*doc\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")
REF = re.compile(r"\{\{\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")
CTE = re.compile(r"\s*(\w+)\s+as\s*\(", re.I)
COMMA = re.compile(r"\s*,")
FROM = re.compile(r"\bfrom\b", re.I)


# -- the yml ------------------------------------------------------------------------------------


def yml_files() -> list[Path]:
    return sorted(MODELS.rglob("*.yml"))


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


@cache
def docs_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for path in sorted(MODELS.rglob("*.md")):
        for name, text in DOCS_BLOCK.findall(path.read_text()):
            assert name not in blocks, f"docs block {name} is defined twice ({path})"
            blocks[name] = text.strip()
    return blocks


def described(description: Any) -> str:
    """The description as dbt renders it: each {{ doc("x") }} replaced by its block ("" when
    there is no such block)."""
    if not isinstance(description, str):
        return ""
    return DOC_CALL.sub(lambda m: docs_blocks().get(m.group(1), ""), description).strip()


def documented_things() -> list[tuple[str, Any]]:
    """(where, description) of every model, model column, source, table and table column."""
    things: list[tuple[str, Any]] = []
    for path in yml_files():
        where = path.relative_to(MODELS)
        data = load(path)
        for model in data.get("models") or []:
            things.append((f"{where}: model {model['name']}", model.get("description")))
            for column in model.get("columns") or []:
                things.append(
                    (f"{where}: {model['name']}.{column['name']}", column.get("description"))
                )
        for source in data.get("sources") or []:
            things.append((f"{where}: source {source['name']}", source.get("description")))
            for table in source.get("tables") or []:
                name = f"{source['name']}.{table['name']}"
                things.append((f"{where}: source table {name}", table.get("description")))
                if not table.get("columns"):
                    things.append((f"{where}: {name} declares no columns", None))
                for column in table.get("columns") or []:
                    things.append((f"{where}: {name}.{column['name']}", column.get("description")))
    return things


def declared_models() -> dict[str, tuple[Path, list[str]]]:
    """Model name -> (its yml, the columns it declares, in order)."""
    models: dict[str, tuple[Path, list[str]]] = {}
    for path in yml_files():
        for model in load(path).get("models") or []:
            assert model["name"] not in models, f"{model['name']} is declared twice ({path})"
            models[model["name"]] = (path, [c["name"] for c in model.get("columns") or []])
    return models


# -- the SQL ------------------------------------------------------------------------------------


def model_files() -> dict[str, Path]:
    return {p.stem: p for layer in LAYERS for p in sorted((MODELS / layer).rglob("*.sql"))}


def plain_sql(text: str) -> str:
    """The SQL without Jinja: ref('m') becomes __ref__m, any other expression __jinja__."""
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = REF.sub(lambda m: f"__ref__{m.group(1)}", text)
    out, depth = [], 0
    for piece in re.split(r"(\{\{|\}\})", text):
        # counted, as a config() may hold a hook with expressions of its own
        if piece == "{{":
            out.append("__jinja__" if depth == 0 else "")
            depth += 1
        elif piece == "}}":
            depth -= 1
        elif depth == 0:
            out.append(piece)
    return re.sub(r"--[^\n]*", " ", "".join(out))


def top_level(sql: str) -> str:
    """`sql` with everything inside parentheses and string literals blanked (same length), so
    keywords and commas found in it are the statement's own."""
    out, depth, quoted = [], 0, False
    for char in sql:
        if quoted:
            quoted = char != "'"
            out.append(" ")
        elif char == "'":
            quoted = True
            out.append(" ")
        elif char == "(":
            out.append("(" if depth == 0 else " ")
            depth += 1
        elif char == ")":
            depth -= 1
            out.append(")" if depth == 0 else " ")
        else:
            out.append(char if depth == 0 else " ")
    return "".join(out)


def split_ctes(sql: str) -> tuple[dict[str, str], str]:
    """(CTE name -> body, the final statement)."""
    mask = top_level(sql)
    start = re.match(r"\s*(?:__jinja__\s*)*", mask)
    position = start.end() if start else 0
    ctes: dict[str, str] = {}
    if not re.match(r"with\b", mask[position:], re.I):
        return ctes, sql[position:]
    position += 4
    while cte := CTE.match(mask, position):
        close = mask.index(")", cte.end())
        ctes[cte.group(1)] = sql[cte.end() : close]
        position = close + 1
        comma = COMMA.match(mask, position)
        if not comma:
            break
        position = comma.end()
    return ctes, sql[position:]


def output_columns(statement: str, ctes: dict[str, str], model: str) -> list[str]:
    """The names a select statement outputs (its first select, for a union)."""
    inner, statement = split_ctes(statement)
    ctes = {**ctes, **inner}
    mask = top_level(statement)
    select = re.search(r"\bselect\s+(?:distinct\s+)?", mask, re.I)
    assert select, f"{model}: no select in {statement.strip()[:80]!r}"
    end = FROM.search(mask, select.end())
    items_end = end.start() if end else len(mask)
    relations: dict[str, str] = {}
    first = ""
    if end:
        for found in re.finditer(r"\b(?:from|join)\s+(\w+)(?:\s+as\s+(\w+))?", mask[end.start() :]):
            relation, alias = found.group(1), found.group(2) or found.group(1)
            relations[alias] = relation
            first = first or relation
    names: list[str] = []
    for piece in mask[select.end() : items_end].split(","):
        item = piece.strip()
        alias = re.search(r"\s+as\s+\"?(\w+)\"?$", item, re.I)
        bare = re.fullmatch(r"(?:\w+\.)?\"?(\w+)\"?", item)
        star = re.fullmatch(r"(?:(\w+)\.)?\*", item)
        if alias:
            names.append(alias.group(1))
        elif bare:
            names.append(bare.group(1))
        elif star:
            relation = relations.get(star.group(1), star.group(1)) if star.group(1) else first
            names.extend(relation_columns(relation, ctes, model))
        else:
            raise AssertionError(f"{model}: give {item!r} an alias (as <name>)")
    return names


def relation_columns(relation: str, ctes: dict[str, str], model: str) -> list[str]:
    if relation.startswith("__ref__"):
        return model_columns(relation.removeprefix("__ref__"))
    assert relation in ctes, f"{model}: cannot list the columns of {relation!r} for a *"
    return output_columns(ctes[relation], ctes, model)


@cache
def model_columns(model: str) -> list[str]:
    path = model_files().get(model)
    assert path, f"ref('{model}'): no such model under {', '.join(LAYERS)}"
    return output_columns(plain_sql(path.read_text()), {}, model)


# -- the tests ----------------------------------------------------------------------------------


def test_every_model_column_source_table_and_source_column_has_a_description() -> None:
    missing = []
    for where, description in documented_things():
        unknown = [n for n in DOC_CALL.findall(str(description)) if n not in docs_blocks()]
        if unknown:
            missing.append(f"{where}: no docs block named {', '.join(unknown)}")
        elif not described(description):
            missing.append(where)
    undeclared = sorted(set(model_files()) - set(declared_models()))
    missing += [f"model {model}: not in any yml" for model in undeclared]
    assert not missing, "no description:\n  " + "\n  ".join(missing)


def test_every_model_declares_exactly_the_columns_its_sql_selects() -> None:
    declared = declared_models()
    problems = []
    for model in model_files():
        if model not in declared:
            continue  # the description test names it
        path, columns = declared[model]
        selected = model_columns(model)
        where = f"{path.relative_to(MODELS)}: {model}"
        if sorted(selected) != sorted(set(selected)):
            problems.append(f"{where} selects a name twice: {selected}")
        if extra := [c for c in selected if c not in columns]:
            problems.append(f"{where}: selected, not declared: {', '.join(extra)}")
        if stale := [c for c in columns if c not in selected]:
            problems.append(f"{where}: declared, not selected: {', '.join(stale)}")
    stale_models = sorted(set(declared) - set(model_files()))
    problems += [f"{declared[m][0].relative_to(MODELS)}: {m} has no SQL" for m in stale_models]
    assert not problems, "\n".join(problems)


def test_a_text_used_in_several_places_is_one_docs_block() -> None:
    places: dict[str, list[str]] = defaultdict(list)
    for where, description in documented_things():
        if isinstance(description, str) and not DOC_CALL.fullmatch(description.strip()):
            places[" ".join(description.split())].append(where)
    repeated = [f"{text!r}: {', '.join(where)}" for text, where in places.items() if len(where) > 1]
    assert not repeated, "write these once, in a {% docs %} block:\n" + "\n".join(repeated)
    used = {
        name
        for _, description in documented_things()
        if isinstance(description, str)
        for name in DOC_CALL.findall(description)
    }
    assert not set(docs_blocks()) - used, f"docs blocks nothing uses: {set(docs_blocks()) - used}"
