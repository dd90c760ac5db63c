"""JSON Schemas generated from the canonical models and the mapping language (``lockerhub schema export``);
never edited by hand."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from lockerhub.config import HubConfig
from lockerhub.mapping.model import MappingDoc
from lockerhub.model import Locker, ParcelEvent, Reservation, Shipment, TelemetryReading

MODELS: dict[str, type[BaseModel]] = {
    "shipment": Shipment,
    "parcel-event": ParcelEvent,
    "locker": Locker,
    "reservation": Reservation,
    "telemetry-reading": TelemetryReading,
    "hub-config": HubConfig,
    "mapping": MappingDoc,
}


def render(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def export(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in MODELS.items():
        path = out / f"{name}.schema.json"
        path.write_text(render(model), "utf-8")
        written.append(path)
    return written


def drift(out: Path) -> list[str]:
    """Names of schema files that differ from the code (or are missing)."""
    stale = []
    for name, model in MODELS.items():
        path = out / f"{name}.schema.json"
        if not path.exists() or path.read_text("utf-8") != render(model):
            stale.append(path.name)
    return stale
