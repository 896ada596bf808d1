"""The official Bot API schema (api.json, MIT: see API_SCHEMA_LICENSE): methods and parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


class BadRequest(ValueError):
    """A call Telegram would answer with 400 Bad Request."""


@dataclass(frozen=True)
class Parameter:
    name: str
    types: tuple[str, ...]
    required: bool


@cache
def methods() -> dict[str, dict[str, Parameter]]:
    """Method name (lower-cased, as Telegram matches them) -> its parameters."""
    document = json.loads(resources.files("tgemu").joinpath("api.json").read_text(encoding="utf-8"))
    table: dict[str, dict[str, Parameter]] = {}
    for name, method in document["methods"].items():
        table[name.lower()] = {
            field["name"]: Parameter(field["name"], tuple(field["types"]), bool(field["required"]))
            for field in method.get("fields", [])
        }
    return table


def _coerce_one(kind: str, value: Any) -> Any:
    if kind == "Integer":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise ValueError
    if kind == "Float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return float(value)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValueError
    if kind == "String":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError
    if kind == "InputFile":
        if isinstance(value, bytes | str | tuple):
            return value
        raise ValueError
    # Objects and arrays arrive JSON-encoded in form posts.
    decoded = json.loads(value) if isinstance(value, str) else value
    if kind.startswith("Array of"):
        if not isinstance(decoded, list):
            raise ValueError
    elif not isinstance(decoded, dict):
        raise ValueError
    return decoded


def coerce(method: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Check required parameters and types; return the parameters as Python values."""
    parameters = methods()[method]
    for parameter in parameters.values():
        if parameter.required and (parameter.name not in raw or raw[parameter.name] in ("", None)):
            raise BadRequest(f"Bad Request: {parameter.name} is empty")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        known = parameters.get(name)
        if known is None:
            continue  # Telegram ignores unknown parameters.
        for kind in known.types:
            try:
                values[name] = _coerce_one(kind, value)
                break
            except (ValueError, TypeError):
                continue
        else:
            raise BadRequest(f"Bad Request: wrong type of the field {name}")
    return values
