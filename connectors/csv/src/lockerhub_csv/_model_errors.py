"""Canonical paths and pydantic errors in lockerhub's words: where a value goes, what was expected, what was found.

Shared by the mapping loader (a default must pass the model's rules) and the row reader (a cell must).
"""

from __future__ import annotations

import copy
from typing import Any

import pydantic

from lockerhub.errors import LockerhubError
from lockerhub.model import Shipment
from lockerhub_csv._targets import Target

# Types whose message never quotes the input; other messages may (a validator's ValueError text).
VALUE_FREE = frozenset({"missing", "string_too_long", "string_too_short"})

# The smallest valid shipment, to check one field's value against the model on its own.
_PROBE: dict[str, Any] = {
    "partner": "p",
    "reference": "r",
    "recipient": {},
    "parcels": [{"parcel_id": "p", "dimensions": {"length_mm": 1, "width_mm": 1, "height_mm": 1}, "weight_g": 1}],
}


def put(data: dict[str, Any], keys: tuple[str | int, ...], value: object) -> None:
    """Set ``value`` at ``keys`` (``('parcels', 0, 'weight_g')``), creating dicts on the way (a hot path)."""
    node: Any = data
    last = len(keys) - 1
    for i in range(last):
        key = keys[i]
        if isinstance(key, int):
            node = node[key]
            continue
        child = node.get(key)
        if child is None:
            child = node[key] = [] if isinstance(keys[i + 1], int) else {}
        node = child
    node[keys[last]] = value


def path_of(loc: tuple[str | int, ...]) -> str:
    """A pydantic ``loc`` as a canonical path: ``('parcels', 0, 'sscc')`` -> ``parcels[0].sscc``."""
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def lockerhub_cause(err: Any) -> LockerhubError | None:
    """The lockerhub error behind a pydantic ``value_error`` (model validators re-raise it as ValueError)."""
    exc = (err.get("ctx") or {}).get("error")
    while exc is not None:
        if isinstance(exc, LockerhubError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def show(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def mask(value: object) -> str:
    return f"a value of {len(str(value))} characters (not shown: personal data)"


def describe(err: Any) -> tuple[str, str]:
    """(expected, found) for a pydantic error; a lockerhub error behind it keeps its own words."""
    cause = lockerhub_cause(err)
    if cause is not None and cause.expected is not None:
        return cause.expected, cause.found or ""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "a value", "nothing"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters", f"{len(str(value))} characters"
    if kind == "string_too_short":
        return f"at least {ctx['min_length']} characters", f"{len(str(value))} characters"
    if kind == "greater_than_equal":
        return f"a number >= {ctx['ge']}", show(value)
    msg = str(err["msg"])
    for prefix in ("Input should be ", "Value error, "):
        msg = msg.removeprefix(prefix)
    return msg, show(value)


def model_error(target: Target, value: object) -> Any | None:
    """The pydantic error the canonical model raises for ``value`` at ``target`` alone, if any."""
    data = copy.deepcopy(_PROBE)
    put(data, target.keys, value)
    try:
        Shipment.model_validate(data)
    except pydantic.ValidationError as exc:
        return next((err for err in exc.errors() if path_of(err["loc"]) == target.path), None)
    return None
