"""Helpers the vendor connectors' webhook modules share. Errors name headers and fields, never their values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lockerhub.errors import ParseError, ReplayWindowError

_JSON_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
               dict: "an object"}


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (a plain dict or Starlette's ``Headers``)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def json_kind(value: object) -> str:
    """What was found, by JSON type only (values may be anything a sender put there)."""
    if value is None:
        return "nothing"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def load_json(body: bytes, where: str, shape: str) -> Any:
    """``body`` parsed as JSON; a :class:`ParseError` at ``where`` expecting ``shape`` when it is not UTF-8 JSON."""
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise ParseError(where, expected=shape, found="bytes that are not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ParseError(where, expected=shape,
                         found=f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def json_object(body: bytes, where: str, shape: str) -> dict[str, Any]:
    """:func:`load_json`, which must give a JSON object."""
    data = load_json(body, where, shape)
    if not isinstance(data, dict):
        raise ParseError(where, expected=shape, found=json_kind(data))
    return data


def check_replay_window(signed_at: float, *, now: datetime, tolerance_s: float, message: str) -> None:
    """A :class:`ReplayWindowError` with ``message`` when ``signed_at`` (unix seconds) is more than ``tolerance_s``
    from ``now``."""
    age = now.timestamp() - signed_at
    if abs(age) > tolerance_s:
        raise ReplayWindowError(message, expected=f"within {tolerance_s:g} s of the hub's clock",
                                found=f"{'older' if age > 0 else 'newer'} by {abs(age):.0f} s")
