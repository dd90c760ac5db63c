"""The YAML mapping language: load (with positions) -> validate -> compile -> run; explain, diff, golden tests.

``explain`` and ``diff`` are modules (``from lockerhub.mapping.explain import explain``); their functions are not
re-exported here, so the module names keep meaning the modules.
"""

from lockerhub.mapping.compile import CompiledMapping, MapResult
from lockerhub.mapping.golden import CaseResult, run_golden
from lockerhub.mapping.load import load_mapping, validate_mapping
from lockerhub.mapping.model import MappingDoc
from lockerhub.mapping.versions import MappingSet

__all__ = ["CaseResult", "CompiledMapping", "MapResult", "MappingDoc", "MappingSet", "load_mapping", "run_golden",
           "validate_mapping"]
