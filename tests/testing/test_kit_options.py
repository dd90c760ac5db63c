"""The kit's options: what is collected with and without them, usage errors, and harnesses that cannot run."""

from __future__ import annotations

import pytest

KIT_IDS = [f"conformance[simlocker]::{name}" for name in (
    "check_spec", "check_idempotent_booking", "check_status_mapping", "check_webhook_signature", "check_pagination",
    "check_error_mapping", "check_retry_after", "check_cancel_releases")]


def collected(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line]


def test_without_the_option_the_kit_adds_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine="""
        def test_mine(request):
            assert request.config.pluginmanager.get_plugin("lockerhub-conformance-kit") is None
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    assert [r.nodeid for r in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
            if r.when == "call"] == ["test_mine.py::test_mine"]
    result.assert_outcomes(passed=1)
    assert "conformance" not in result.stdout.str()


def test_the_options_are_documented_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*lockerhub connector conformance kit*", "*--lockerhub-connector=NAME*",
                                 "*--lockerhub-harness=[[]NAME=[]]MODULE:FACTORY*"])


def test_given_no_path_the_kit_runs_alone_and_beside_the_tests_of_paths_given(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mine="def test_mine(): pass")
    alone = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--co", "-q", "--lockerhub-connector", "simlocker")
    assert collected(alone) == KIT_IDS
    beside = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--co", "-q", "--lockerhub-connector",
                                          "simlocker", "test_mine.py")
    assert collected(beside) == ["test_mine.py::test_mine", *KIT_IDS]


@pytest.mark.parametrize(("args", "message"), [
    (["--lockerhub-connector", "simlockr"],
     ("ERROR: --lockerhub-connector simlockr: no conformance harness named 'simlockr' is installed; installed: *"
      "simlocker* (did you mean 'simlocker'?)*--lockerhub-harness MODULE:FACTORY")),
    (["--lockerhub-harness", "lockerhub_sample/conformance.py"],
     "ERROR: --lockerhub-harness 'lockerhub_sample/conformance.py': expected [[]NAME=[]]MODULE:FACTORY, e.g. *"),
    (["--lockerhub-connector", "simlocker", "--lockerhub-harness", "simlocker=lockerhub_simlocker.conformance:harness"],
     "ERROR: two harnesses are named 'simlocker'; give --lockerhub-harness a name of its own: NAME=MODULE:FACTORY"),
])
def test_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_harness_that_cannot_be_imported_is_a_collection_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--lockerhub-harness",
                                          "lockerhub_nowhere.conformance:harness")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([
        "*ERROR collecting conformance[[]nowhere[]]*",
        ("--lockerhub-harness lockerhub_nowhere.conformance:harness: cannot import lockerhub_nowhere.conformance: "
         "ModuleNotFoundError: * (put the plugin's src folder on sys.path; an installed plugin runs with "
         "--lockerhub-connector NAME)"),
    ])


def test_a_factory_that_yields_no_harness_errors_every_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(notaharness="""
        from contextlib import contextmanager

        @contextmanager
        def harness():
            yield {"connector": None}
    """)
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--lockerhub-harness", "odd=notaharness:harness")
    result.assert_outcomes(errors=8)
    result.stdout.fnmatch_lines(["*ERROR at setup of conformance[[]odd[]]::check_spec*",
                                 ("--lockerhub-harness notaharness:harness: the harness context manager yielded "
                                  "a dict, expected a lockerhub.testing.Harness")])


def test_a_harness_is_entered_once_per_session_and_left_after_its_checks(pytester: pytest.Pytester) -> None:
    log = pytester.path / "harness.log"
    pytester.makepyfile(counted=f"""
        from contextlib import contextmanager
        from pathlib import Path

        from lockerhub_simlocker.conformance import harness as simlocker

        @contextmanager
        def harness():
            log = Path({str(log)!r})
            with log.open("a") as out:
                out.write("enter\\n")
            with simlocker() as running:
                yield running
            with log.open("a") as out:
                out.write("exit\\n")
    """)
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--lockerhub-harness", "counted:harness")
    result.assert_outcomes(passed=8)
    assert log.read_text().split() == ["enter", "exit"]
