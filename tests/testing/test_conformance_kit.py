"""The conformance kit run as vendors run it: ``pytest --lockerhub-connector NAME`` and ``--lockerhub-harness``.

The sample plugin (examples/sample-connector) is not installed, so it is loaded with ``--lockerhub-harness`` after
putting its src folder on sys.path; an installed plugin is found by its ``lockerhub.conformance`` entry point.
The broken plugins are copies of the sample with one bug each, and each must fail exactly the check for it.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from lockerhub.testing.checks import CHECKS

SAMPLE_SRC = Path(__file__).resolve().parents[2] / "examples" / "sample-connector" / "src"
SAMPLE = "lockerhub_sample.conformance:harness"
NAMES = [fn.__name__ for fn in CHECKS]

Patch = tuple[str, str, str]  # file in lockerhub_sample, text found exactly once, its replacement

# One bug per check, as a connector author might make it; each with words its failure paragraph must contain.
BUGS: dict[str, tuple[Patch, list[str]]] = {
    "check_spec": (
        ("connector.py", "def size_classes(self) -> list[SizeClass]:",
         "def size_classes(self, locker_id: str | None = None) -> list[SizeClass]:"),
        ["registry's verification", "method 'size_classes' signature: expected (), found (locker_id)"]),
    "check_idempotent_booking": (  # the idempotency key is never sent
        ("client.py",
         'json={"point_id": point_id, "box_size": box_size},\n' + " " * 26 + "idempotency_key=idempotency_key)",
         'json={"point_id": point_id, "box_size": box_size})'),
        ["called twice to return the same reservation", "found two reservations", "send the idempotency key"]),
    "check_status_mapping": (  # an unmapped code guessed as DELIVERED
        ("connector.py", "return _crosswalk().map(code)",
         'return _crosswalk().codes.get(code) or _crosswalk().map("DELIVERED")'),
        ["to raise lockerhub.errors.MappingError", "it was guessed as COLLECTED", "never guess a status"]),
    "check_webhook_signature": (  # a verifier that accepts anything
        ("connector.py", "return webhook.verify(headers, body,",
         'return webhook._object(body)["delivery"]\n        return webhook.verify(headers, body,'),
        ["a delivery with a wrong signature to raise lockerhub.errors.AuthError",
         "verify_webhook accepted it", "hmac.compare_digest"]),
    "check_pagination": (  # reads a field the API does not send, so it stops after page 1
        ("client.py", 'if not body.get("next_cursor"):', 'if not body.get("next_page"):'),
        ["to yield each of the double's 45 lockers once (3 pages of 20)", "25 missing",
         "it stopped after the first page of 20", "follow the vendor's pagination"]),
    "check_error_mapping": (  # a 401 taken for a token being refreshed
        ("client.py", "return raise_for_status(VENDOR, response)",
         ("if response.status_code == 401:\n"
          "            from lockerhub.errors import TransientError\n"
          "            raise TransientError('sample: token being refreshed')\n"
          "        return raise_for_status(VENDOR, response)")),
        ["answered HTTP 401, to raise AuthError", "it raised TransientError", "raise_for_status"]),
    "check_retry_after": (  # Retry-After dropped
        ("client.py", "return raise_for_status(VENDOR, response)",
         ("from lockerhub.errors import TransientError\n"
          "        try:\n"
          "            return raise_for_status(VENDOR, response)\n"
          "        except TransientError as exc:\n"
          "            raise TransientError(exc.message) from None")),
        ["a 429 with Retry-After: 7 to raise TransientError with retry_after=7", "found retry_after=None",
         "Retry-After header"]),
    "check_cancel_releases": (  # cancel that never reaches the vendor
        ("connector.py", "self.client.release(reservation_id)", "return"),
        ["to end CANCELLED", "found statuses CREATED", "cancel at the vendor"]),
}


NO_WEBHOOK: Patch = ("conformance.py",
                     "webhook=lambda signed_at, valid: webhook(world, lockers[0].locker_id, signed_at, valid),",
                     "webhook=None,")


@pytest.fixture
def sample(pytester: pytest.Pytester) -> Callable[..., str]:
    """Copy the sample plugin into the run's folder with ``patches`` applied, put it on sys.path, and return its
    ``--lockerhub-harness`` argument."""

    def copy(*patches: Patch) -> str:
        package = pytester.path / "src" / "lockerhub_sample"
        shutil.copytree(SAMPLE_SRC / "lockerhub_sample", package, ignore=shutil.ignore_patterns("__pycache__"))
        for name, old, new in patches:
            text = (package / name).read_text("utf-8")
            assert text.count(old) == 1, f"the sample's {name} changed: update the patch for {old!r}"
            (package / name).write_text(text.replace(old, new), "utf-8")
        pytester.syspathinsert(pytester.path / "src")
        return SAMPLE

    return copy


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, pytest.TestReport]]:
    """One in-process pytest run; reports by node id (the call report, or the one that did not pass)."""
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
    passed, skipped, failed = result.reprec.listoutcomes()  # type: ignore[attr-defined]
    return result, {r.nodeid: r for r in (*passed, *skipped, *failed)}


def ids(name: str) -> list[str]:
    return [f"conformance[{name}]::{check}" for check in NAMES]


def test_the_kit_has_one_check_per_contract_clause() -> None:
    assert NAMES == ["check_spec", "check_idempotent_booking", "check_status_mapping", "check_webhook_signature",
                     "check_pagination", "check_error_mapping", "check_retry_after", "check_cancel_releases"]


UNSIGNED_WEBHOOKS = {"inpost", "mqtt-cabinet"}  # webhooks as hints only / no webhooks: that one check is skipped


@pytest.mark.parametrize("name", ["simlocker", "inpost", "boxnow", "gls", "mqtt-cabinet"])
def test_every_builtin_passes_by_name(pytester: pytest.Pytester, name: str) -> None:
    if name == "mqtt-cabinet":  # the cabinets talk over a real broker
        from tests.integration.conftest import service_missing

        try:
            socket.create_connection(("127.0.0.1", 1883), timeout=3).close()
        except OSError as exc:
            service_missing("Mosquitto at 127.0.0.1:1883", exc)
    result, reports = run(pytester, "--lockerhub-connector", name)
    assert sorted(reports) == sorted(ids(name))
    skipped = {k for k, r in reports.items() if r.skipped}
    assert skipped == ({f"conformance[{name}]::check_webhook_signature"} if name in UNSIGNED_WEBHOOKS else set())
    assert not any(r.failed for r in reports.values()), result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


def test_the_sample_passes_by_harness(pytester: pytest.Pytester, sample: Callable[..., str]) -> None:
    result, reports = run(pytester, "--lockerhub-harness", sample(), "-v")
    assert sorted(reports) == sorted(ids("sample"))
    assert all(r.passed for r in reports.values()), result.stdout.str()
    result.stdout.fnmatch_lines(["*lockerhub conformance: sample (--lockerhub-harness lockerhub_sample.*",
                                 "conformance?sample?::check_spec PASSED*"])


@pytest.mark.parametrize("check", list(BUGS))
def test_a_broken_plugin_fails_the_check_for_its_bug(
    pytester: pytest.Pytester, sample: Callable[..., str], check: str
) -> None:
    patch, words = BUGS[check]
    result, reports = run(pytester, "--lockerhub-harness", sample(patch))
    failed = sorted(nodeid for nodeid, r in reports.items() if r.failed)
    assert failed == [f"conformance[sample]::{check}"], result.stdout.str()
    paragraph = reports[failed[0]].longreprtext
    assert paragraph.startswith(f"{check} failed for connector 'sample' (--lockerhub-harness lockerhub_sample.")
    assert "\n" not in paragraph and "Traceback" not in paragraph
    for phrase in words:
        assert phrase in paragraph, paragraph
    result.stdout.fnmatch_lines([f"FAILED conformance?sample?::{check} - *"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_checks_that_do_not_apply_are_skipped_with_the_reason(
    pytester: pytest.Pytester, sample: Callable[..., str]
) -> None:
    spec = sample(("connector.py", " Capability.CANCEL,\n", "\n"), ("connector.py", " Capability.WEBHOOKS,\n", "\n"),
                  NO_WEBHOOK)
    result, reports = run(pytester, "--lockerhub-harness", spec)
    skipped = {nodeid: r.longrepr[2] for nodeid, r in reports.items() if r.skipped}  # type: ignore[index]
    assert sorted(skipped) == ["conformance[sample]::check_cancel_releases",
                               "conformance[sample]::check_webhook_signature"], result.stdout.str()
    assert skipped["conformance[sample]::check_cancel_releases"] == "Skipped: the connector does not declare cancel"
    assert "harness.webhook is None" in skipped["conformance[sample]::check_webhook_signature"]
    assert "polls for status (poll_status)" in skipped["conformance[sample]::check_webhook_signature"]
    assert all(r.passed for nodeid, r in reports.items() if nodeid not in skipped)


def test_webhooks_declared_without_a_signed_delivery_fail(
    pytester: pytest.Pytester, sample: Callable[..., str]
) -> None:
    spec = sample(NO_WEBHOOK)
    _, reports = run(pytester, "--lockerhub-harness", spec, "-k", "webhook")
    paragraph = reports["conformance[sample]::check_webhook_signature"].longreprtext
    assert ("expected harness.webhook (a factory of signed deliveries), since the connector declares webhooks; "
            "found None") in paragraph
