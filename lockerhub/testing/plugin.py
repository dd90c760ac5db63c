"""pytest plugin of the conformance kit (registered under the ``pytest11`` entry point).

    pytest --lockerhub-connector simlocker                  an installed plugin's harness, by its connector id
    pytest --lockerhub-harness lockerhub_acme.conformance:harness   one that is not installed (on sys.path)

Each check of :mod:`lockerhub.testing.checks` is reported as ``conformance[NAME]::check_...``. pytest loads this
module in every run, so without either option it only declares them: nothing else is imported or collected.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lockerhub", "lockerhub connector conformance kit")
    group.addoption("--lockerhub-connector", action="append", default=[], metavar="NAME",
                    help="run the conformance checks against the installed connector NAME (its harness registered "
                         "under the entry point group lockerhub.conformance); repeatable")
    group.addoption("--lockerhub-harness", action="append", default=[], metavar="[NAME=]MODULE:FACTORY",
                    help="run the conformance checks against a harness factory that is not installed, e.g. "
                         "lockerhub_acme.conformance:harness (NAME defaults to the package name without "
                         "'lockerhub_'); repeatable")


def pytest_configure(config: pytest.Config) -> None:
    names: list[str] = config.getoption("lockerhub_connector")
    specs: list[str] = config.getoption("lockerhub_harness")
    if not names and not specs:
        return
    from lockerhub.testing.kit import Kit, sources

    alone = config.args_source != pytest.Config.ArgsSource.ARGS
    config.pluginmanager.register(Kit(sources(names, specs), alone=alone), "lockerhub-conformance-kit")
