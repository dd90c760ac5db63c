"""The op registry. Each op is a module in this package that registers its model with ``@register``; there is
no central factory: a new op is one new file (plus its test). ``Expr`` is the discriminated union of every
registered op (discriminator ``op``); a bare string in an expression position is short for ``{op: path}``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Any, Union

from pydantic import BeforeValidator, Discriminator

OPS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: add an op model to the registry under its ``op`` literal."""
    name = cls.model_fields["op"].default  # type: ignore[attr-defined]
    if name in OPS and OPS[name] is not cls:
        raise ValueError(f"mapping op '{name}' registered twice: {OPS[name].__module__} and {cls.__module__}")
    OPS[name] = cls
    return cls


def _shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"op": "path", "path": value}
    return value


def _load_all() -> Any:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    union = Union[tuple(OPS[name] for name in sorted(OPS))]  # type: ignore[valid-type]  # noqa: UP007
    expr = Annotated[union, Discriminator("op"), BeforeValidator(_shorthand)]
    namespace = {"Expr": expr}
    for cls in OPS.values():
        cls.model_rebuild(_types_namespace=namespace)  # type: ignore[attr-defined]
    return expr


Expr = _load_all()
"""Any registered op, or a string (a path)."""

__all__ = ["OPS", "Expr", "register"]
