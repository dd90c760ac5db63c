"""The YAML mapping language: load (with positions) -> validate -> compile -> run; explain, diff, golden tests."""

from lockerhub.mapping.compile import CompiledMapping, MapResult
from lockerhub.mapping.load import load_mapping, validate_mapping
from lockerhub.mapping.model import MappingDoc

__all__ = ["CompiledMapping", "MapResult", "MappingDoc", "load_mapping", "validate_mapping"]
