"""The pytest side of the conformance kit: which harnesses to run, and the collector and items of the checks.

:mod:`lockerhub.testing.plugin` registers a :class:`Kit` only when ``--lockerhub-connector`` or
``--lockerhub-harness`` is given. The kit adds one collector per harness to the session's top level, named
``conformance[NAME]``, with one item per check of :mod:`lockerhub.testing.checks`: the checks run even when the
paths given have no tests of their own. When pytest is given no path at all, the kit runs alone (the configured
``testpaths`` are not collected); give paths to run other tests beside it.

A harness is entered when its first check is set up and left after its last (the collector's setup and teardown),
so it is entered once per connector per session.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

from lockerhub.errors import RegistryError
from lockerhub.plugins.registry import discover
from lockerhub.testing.checks import CHECKS, CheckFunction, ConformanceFailure, Target, run_check
from lockerhub.testing.harness import Harness

GROUP = "lockerhub.conformance"
_SPEC = re.compile(r"(?:(?P<name>[a-z0-9][a-z0-9_.-]*)=)?(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)")


@dataclass(frozen=True, slots=True)
class Source:
    """Where one harness factory comes from; ``load()`` imports it (at collection, not at startup)."""

    target: Target
    load: Callable[[], Any]


def installed() -> dict[str, EntryPoint]:
    """Harness entry points by name; two packages claiming one name is a usage error naming both."""
    try:
        return discover(GROUP)
    except RegistryError as exc:
        raise pytest.UsageError(f"{GROUP}: {exc.message} ({exc.hint})") from None


def sources(names: Sequence[str], specs: Sequence[str]) -> list[Source]:
    """The harnesses asked for, in order: installed ones by NAME, then ``[NAME=]MODULE:FACTORY`` ones."""
    found: list[Source] = []
    if names:
        eps = installed()
        for name in dict.fromkeys(names):
            ep = eps.get(name)
            if ep is None:
                raise pytest.UsageError(_unknown(name, sorted(eps)))
            found.append(Source(Target(name, f"entry point {GROUP}:{name} = {ep.value}", expected_id=name),
                                _entry_point_loader(ep)))
    for spec in dict.fromkeys(specs):
        match = _SPEC.fullmatch(spec.strip())
        if match is None:
            raise pytest.UsageError(
                f"--lockerhub-harness {spec!r}: expected [NAME=]MODULE:FACTORY, e.g. "
                "lockerhub_sample.conformance:harness (the module must be importable: put its src folder on "
                "sys.path, e.g. PYTHONPATH=src)")
        module, attr = match["module"], match["attr"]
        name = match["name"] or module.split(".")[0].removeprefix("lockerhub_").replace("_", "-")
        found.append(Source(Target(name, f"--lockerhub-harness {module}:{attr}"), _module_loader(module, attr)))
    seen: set[str] = set()
    for source in found:
        if source.target.name in seen:
            raise pytest.UsageError(f"two harnesses are named {source.target.name!r}; give --lockerhub-harness "
                                    "a name of its own: NAME=MODULE:FACTORY")
        seen.add(source.target.name)
    return found


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (f"--lockerhub-connector {name}: no conformance harness named {name!r} is installed; installed: "
            f"{', '.join(known) or 'none'}{hint}. A plugin registers one under the entry point group {GROUP}; "
            "one that is not installed runs with --lockerhub-harness MODULE:FACTORY")


def _entry_point_loader(ep: EntryPoint) -> Callable[[], Any]:
    def load() -> Any:
        try:
            return ep.load()
        except Exception as exc:
            raise pytest.Collector.CollectError(
                f"the {GROUP} entry point {ep.name!r} ({ep.value}) failed to import: {type(exc).__name__}: {exc}"
            ) from exc

    return load


def _module_loader(module: str, attr: str) -> Callable[[], Any]:
    def load() -> Any:
        try:
            obj: Any = importlib.import_module(module)
        except Exception as exc:
            raise pytest.Collector.CollectError(
                f"--lockerhub-harness {module}:{attr}: cannot import {module}: {type(exc).__name__}: {exc} (put the "
                "plugin's src folder on sys.path; an installed plugin runs with --lockerhub-connector NAME)"
            ) from exc
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise pytest.Collector.CollectError(f"--lockerhub-harness {module}:{attr}: {module} has no {attr}")
            obj = getattr(obj, part)
        return obj

    return load


class Kit:
    """The hooks the kit adds to a session (registered only when asked for)."""

    def __init__(self, harnesses: list[Source], *, alone: bool) -> None:
        self.harnesses = harnesses
        self.alone = alone

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator[None, pytest.CollectReport,
                                                                                   pytest.CollectReport]:
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            report.result.extend(HarnessCollector.from_parent(collector, source=s) for s in self.harnesses)
        return report

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        return True if self.alone else None

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [f"lockerhub conformance: {s.target.name} ({s.target.origin})" for s in self.harnesses]


class HarnessCollector(pytest.Collector):
    """``conformance[NAME]``: the checks of one harness, which it enters in :meth:`setup` and leaves in
    :meth:`teardown`."""

    def __init__(self, *, source: Source, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.factory: Callable[[], Any] | None = None
        self.harness: Harness | None = None
        self._stack: ExitStack | None = None

    @classmethod
    def from_parent(cls, parent: pytest.Session, *, source: Source) -> HarnessCollector:  # type: ignore[override]
        name = f"conformance[{source.target.name}]"
        return super().from_parent(parent, name=name, nodeid=name, source=source)  # type: ignore[no-any-return]

    def collect(self) -> Iterator[CheckItem]:
        factory = self.source.load()
        if not callable(factory):
            raise self.CollectError(f"{self.source.target.origin}: names a {type(factory).__name__}, expected a "
                                    "factory (a callable returning a context manager that yields a Harness)")
        self.factory = factory
        for fn in CHECKS:
            yield CheckItem.from_parent(self, name=fn.__name__, check=fn)

    def setup(self) -> None:
        assert self.factory is not None
        origin = self.source.target.origin
        stack = ExitStack()
        try:
            manager = self.factory()
            if not (hasattr(manager, "__enter__") and hasattr(manager, "__exit__")):
                pytest.fail(f"{origin}: the factory returned a {type(manager).__name__}, expected a context manager "
                            "that yields a lockerhub.testing.Harness (decorate it with contextlib.contextmanager)",
                            pytrace=False)
            harness = stack.enter_context(manager)
            if not isinstance(harness, Harness):
                pytest.fail(f"{origin}: the harness context manager yielded a {type(harness).__name__}, expected a "
                            "lockerhub.testing.Harness", pytrace=False)
        except BaseException:
            stack.close()
            raise
        self.harness, self._stack = harness, stack

    def teardown(self) -> None:
        stack, self._stack, self.harness = self._stack, None, None
        if stack is not None:
            stack.close()


class CheckItem(pytest.Item):
    """One check against the parent's harness; a failure is reported as the check's paragraph only."""

    def __init__(self, *, check: CheckFunction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, HarnessCollector) and parent.harness is not None
        run_check(self.check, parent.harness, parent.source.target)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.nodeid
