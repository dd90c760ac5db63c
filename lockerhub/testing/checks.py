"""The conformance checks: one function per check, run against a connector's :class:`Harness`.

Each check is registered with :func:`check` in the order it runs and reported as ``conformance[NAME]::<function
name>``. A check that finds a problem raises :class:`ConformanceFailure` with one paragraph: which check, what was
expected, what was found and what to fix. A check is skipped only when the connector's declared capabilities make
it not apply, and the skip reason says which.

The checks talk to the connector through its protocol only (``lockerhub.plugins.protocols``) and to the vendor's
test double through the harness's handles. They use fresh idempotency keys (UUIDs) on every run, so a double that
lives longer than one session is not confused by earlier runs.

What the checks ask of a double, beyond :class:`~lockerhub.testing.harness.Harness`'s own contract:

- ``fail_next`` is followed by ``get_status`` of a reservation the check made just before (the first page of
  ``list_lockers()``, or ``size_classes()``, when the connector does not declare ``poll_status``): that call must
  reach the vendor's API.
- A webhook delivery signed an hour before the hub's clock is stale: a replay window must be shorter than that.
- ``harness.locker_id`` takes four reservations of ``harness.parcel`` (one booked, one cancelled, one per
  fault-injecting check to ask the status of).
"""

from __future__ import annotations

import math
import sysconfig
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

import lockerhub
from lockerhub.errors import AuthError, LockerhubError, MappingError, ReplayWindowError, TransientError
from lockerhub.model import ParcelStatus, Reservation
from lockerhub.plugins.protocols import Capability, ConnectorKind, VendorEvent
from lockerhub.plugins.registry import GROUP, Registry, verify
from lockerhub.testing.harness import Harness

STALE = timedelta(hours=1)  # how long before the hub's clock a "stale" webhook delivery is signed
RETRY_AFTER = 7  # seconds the 429 of check_retry_after asks the client to wait
UNKNOWN_CODE = "LOCKERHUB_CONFORMANCE_UNKNOWN_CODE"
# Where a failure paragraph does not point to (Python's, third-party and lockerhub's code): it names the connector's.
_LIBRARIES = (*(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")),
              str(Path(lockerhub.__file__).parent))


class ConformanceFailure(AssertionError):
    """A check found the connector (or its harness) short of the contract; ``str()`` is the whole paragraph."""


@dataclass(frozen=True, slots=True)
class Target:
    """What the checks run against: ``name`` as reported (``conformance[name]``), where the harness came from, and
    the connector id the name promises (an installed harness's entry point name; None for ``--lockerhub-harness``)."""

    name: str
    origin: str
    expected_id: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One check's view of the harness, with the helpers every check uses to fail in one paragraph."""

    check: str
    harness: Harness
    target: Target
    probed: list[str] = field(default_factory=list)  # the reservation probe() asks the status of

    @property
    def connector(self) -> Any:
        return self.harness.connector

    def declares(self, capability: Capability) -> bool:
        return capability in getattr(self.connector, "capabilities", frozenset())

    def failure(self, *, expected: str, found: str, fix: str) -> ConformanceFailure:
        """This check's failure paragraph: which check, what was expected, what was found, what to fix."""
        connector_id = getattr(self.connector, "id", type(self.connector).__name__)
        return ConformanceFailure(f"{self.check} failed for connector '{connector_id}' ({self.target.origin}): "
                                  f"expected {expected}; found {found}. To fix: {fix}")

    @contextmanager
    def calling(self, call: str, *, fix: str) -> Iterator[None]:
        """Turn an unexpected exception from ``call`` into this check's failure paragraph."""
        try:
            yield
        except ConformanceFailure:
            raise
        except Exception as exc:
            raise self.failure(expected=f"{call} to succeed against the harness's test double",
                               found=f"it raised {describe(exc)}", fix=fix) from exc

    def key(self) -> str:
        """A fresh idempotency key (a UUID: the format every vendor API accepts)."""
        return str(uuid.uuid4())

    def size_class(self) -> str:
        """A size class at ``harness.locker_id`` that takes ``harness.parcel``: the vendor's pre-check when the
        connector declares it, else the smallest of ``size_classes()`` the parcel fits."""
        h = self.harness
        if self.declares(Capability.PRECHECK):
            with self.calling("precheck(harness.locker_id, harness.parcel)",
                              fix="make precheck work against the double, or give the harness a locker_id that "
                                  "is online"):
                fitting = list(self.connector.precheck(h.locker_id, h.parcel))
            source = "precheck(harness.locker_id, harness.parcel) returned no size class"
        else:
            with self.calling("size_classes()", fix="make size_classes work against the double"):
                classes = list(self.connector.size_classes())
            parcel = h.parcel
            fitting = [s.code for s in sorted(classes, key=lambda s: (s.inner.volume_mm3, s.code))
                       if parcel.dimensions.fits_in(s.inner) and parcel.weight_g <= s.max_weight_g
                       and s.temperature == parcel.temperature]
            source = f"none of the {len(classes)} size classes from size_classes() takes harness.parcel"
        if not fitting:
            raise self.failure(
                expected="a size class at harness.locker_id that takes harness.parcel", found=source,
                 fix="give the harness a smaller parcel, or a locker_id that is online with free compartments")
        return str(fitting[0])

    def reserve(self, purpose: str) -> Reservation:
        size = self.size_class()
        with self.calling(f"reserve(harness.locker_id, {size!r}, idempotency_key=...) ({purpose})",
                          fix="make reserve work against the double; harness.locker_id must be online with free "
                              "compartments"):
            reservation: Reservation = self.connector.reserve(self.harness.locker_id, size, idempotency_key=self.key())
        return reservation

    def prepare_probe(self) -> None:
        """Make what :meth:`probe` asks about (before a fault is injected: this call must not take it)."""
        if self.declares(Capability.POLL_STATUS) and not self.probed:
            self.probed.append(self.reserve("to ask its status while faults are injected").reservation_id)

    def probe(self) -> None:
        """One cheap call that reaches the vendor: ``get_status`` of the reservation :meth:`prepare_probe` made (an
        IoT cabinet's or a cached locker list may be read without a request), else the first page of
        ``list_lockers()`` (or ``size_classes()``)."""
        if self.declares(Capability.POLL_STATUS):
            self.connector.get_status(self.probed[0])
            return
        if not self.declares(Capability.LIST_LOCKERS):
            self.connector.size_classes()
            return
        lockers = iter(self.connector.list_lockers())
        try:
            next(lockers, None)
        finally:
            close = getattr(lockers, "close", None)
            if close is not None:
                close()

    @property
    def probe_name(self) -> str:
        if self.declares(Capability.POLL_STATUS):
            return "get_status(<a reservation it just made>)"
        return "list_lockers() (its first page)" if self.declares(Capability.LIST_LOCKERS) else "size_classes()"


CheckFunction = Callable[[Run], None]
CHECKS: list[CheckFunction] = []


def check(fn: CheckFunction) -> CheckFunction:
    """Register a check; checks run in the order they are defined."""
    CHECKS.append(fn)
    return fn


def run_check(fn: CheckFunction, harness: Harness, target: Target) -> None:
    fn(Run(fn.__name__, harness, target))


def describe(exc: BaseException) -> str:
    """An exception as the failure paragraph shows it: its class, its message and where it was raised."""
    text = " ".join(str(exc).split()).removeprefix("error: ")
    if len(text) > 300:
        text = text[:297] + "..."
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.startswith(_LIBRARIES)] or frames
    where = f" at {Path(own[-1].filename).name}:{own[-1].lineno}" if own else ""
    return f"{type(exc).__name__}({text}){where}"


def canonical(value: object) -> ParcelStatus | None:
    """The canonical status ``map_status`` gave: a ParcelStatus, a crosswalk ``Mapped`` (``.status``) or its name."""
    status = getattr(value, "status", value)
    if isinstance(status, ParcelStatus):
        return status
    if isinstance(status, str) and status in ParcelStatus.__members__:
        return ParcelStatus(status)
    return None


def _sample(values: Iterable[object], n: int = 3) -> str:
    items = sorted(str(v) for v in values)
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more


# --- (a) spec and check -------------------------------------------------------------------------------------------


@check
def check_spec(run: Run) -> None:
    """Class attributes, the registry's own verification, the config model's JSON Schema, and ``check()``."""
    cls: Any = type(run.connector)
    where = f"class {cls.__module__}.{cls.__qualname__}"
    try:
        verify(cls, where=where)
    except LockerhubError as exc:
        raise run.failure(
            expected="the connector class to pass the registry's verification (lockerhub.plugins.registry."
                     "verify: id, kind, version, capabilities, config_model, and every verb of its kind and "
                     "capabilities with the protocol's parameters)",
            found=exc.render().removeprefix("error: "),
            fix="declare the attribute or the verb as lockerhub/plugins/protocols.py names it") from exc
    if cls.kind != ConnectorKind.LOCKER_VENDOR:
        raise run.failure(
            expected=f"kind {ConnectorKind.LOCKER_VENDOR.value!r}", found=f"kind {cls.kind.value!r}",
            fix="this kit checks locker-vendor connectors: set kind = ConnectorKind.LOCKER_VENDOR")
    expected_id = run.target.expected_id
    if expected_id is not None and cls.id != expected_id:
        raise run.failure(
            expected=f"the connector's id to be {expected_id!r}, the name of its lockerhub.conformance entry "
                     "point", found=f"id {cls.id!r}",
            fix="name the entry points after the connector id (connector id = entry point name = CLI name)")
    _check_connector_entry_point(run, cls)
    try:
        cls.config_model.model_json_schema()
    except Exception as exc:
        raise run.failure(
            expected="config_model.model_json_schema() to give the connector's spec",
            found=f"it raised {describe(exc)}",
            fix="type every config field with a type pydantic can describe in JSON Schema") from exc
    with run.calling("check()", fix="make check() validate the config, then make one cheap authenticated call"):
        result = run.connector.check()
    items = getattr(result, "items", None)
    if not isinstance(items, list) or not items:
        raise run.failure(
            expected="check() to return a CheckResult with at least one item",
            found=f"{type(result).__name__} {'without items' if isinstance(items, list) else ''}".strip(),
            fix="return lockerhub.plugins.CheckResult().add('config', True) and an item per call made")
    failed = [i for i in items if not i.ok]
    if failed:
        raise run.failure(
            expected="check() to pass against the harness's double",
            found="; ".join(f"{i.name}: {i.message or 'not ok'}" for i in failed),
            fix="point the harness's connector at the double with valid credentials, or correct check()")


def _check_connector_entry_point(run: Run, cls: Any) -> None:
    """An installed connector must be the class the hub loads through ``lockerhub.connectors``."""
    connector_id = cls.id
    if connector_id not in {ep.name for ep in entry_points(group=GROUP)}:
        if run.target.expected_id is not None:
            raise run.failure(
                expected=f"a {GROUP} entry point named {connector_id!r} (the hub loads connectors by it)",
                found="none installed",
                fix=f'add [project.entry-points."{GROUP}"] {connector_id} = "<package>.connector:<Class>" '
                    "to the plugin's pyproject.toml and reinstall it")
        return
    try:
        loaded = Registry().load(connector_id)
    except LockerhubError as exc:
        raise run.failure(
            expected=f"the {GROUP} entry point {connector_id!r} to load", found=exc.render(),
            fix="correct the entry point's module:Class and reinstall the plugin") from exc
    if loaded is not cls:
        raise run.failure(
            expected=f"the {GROUP} entry point {connector_id!r} to name the harness's connector class "
                     f"{cls.__module__}.{cls.__qualname__}",
            found=f"it names {loaded.__module__}.{loaded.__qualname__}",
            fix="build the harness's connector from the class the entry point names")


# --- (b) booking idempotency --------------------------------------------------------------------------------------


@check
def check_idempotent_booking(run: Run) -> None:
    """reserve twice with one key -> one reservation; book twice with one key -> one booking (and its code)."""
    if not (run.declares(Capability.SOFT_RESERVE) or run.declares(Capability.HARD_BOOK)):
        pytest.skip("the connector declares neither soft_reserve nor hard_book, so it takes no reservations")
    h = run.harness
    size, key = run.size_class(), run.key()
    fix_reserve = ("send the idempotency key with the reservation request (e.g. an Idempotency-Key header) so a "
                   "retried reserve() replays the vendor's first answer")
    with run.calling("reservation_ids()", fix="make the harness list the double's reservations"):
        before = set(h.reservation_ids())
    call = f"reserve(harness.locker_id, {size!r}, idempotency_key=K)"
    with run.calling(call, fix="make reserve work against the double"):
        first = run.connector.reserve(h.locker_id, size, idempotency_key=key)
    with run.calling(f"{call} a second time with the same K", fix=fix_reserve):
        second = run.connector.reserve(h.locker_id, size, idempotency_key=key)
    if first.reservation_id != second.reservation_id:
        raise run.failure(
            expected=f"{call} called twice to return the same reservation",
            found=f"two reservations, {first.reservation_id!r} and {second.reservation_id!r}", fix=fix_reserve)
    with run.calling("reservation_ids()", fix="make the harness list the double's reservations"):
        added = set(h.reservation_ids()) - before
    if len(added) != 1:
        raise run.failure(
            expected=f"{call} called twice to add one reservation to the double's reservation_ids()",
            found=f"{len(added)} new reservations" + (f" ({_sample(added)})" if added else ""),
            fix=fix_reserve if len(added) > 1 else "make harness.reservation_ids() list every reservation the "
                                                  "double holds")
    if first.reservation_id not in added:
        raise run.failure(
            expected=f"the reservation id reserve() returned ({first.reservation_id!r}) among the double's "
                     "new reservation_ids()", found=f"only {_sample(added)}",
            fix="make harness.reservation_ids() return the ids in the form the connector returns them")
    if run.declares(Capability.HARD_BOOK):
        _check_idempotent_book(run, first.reservation_id)


def _check_idempotent_book(run: Run, reservation_id: str) -> None:
    key = run.key()
    fix = ("send the idempotency key with the booking request so a retried book() replays the vendor's first "
           "answer (and its access code)")
    call = f"book({reservation_id!r}, idempotency_key=K)"
    with run.calling(call, fix="make book work against the double on a reservation reserve() just made"):
        first = run.connector.book(reservation_id, idempotency_key=key)
    with run.calling(f"{call} a second time with the same K", fix=fix):
        second = run.connector.book(reservation_id, idempotency_key=key)
    if first.reservation_id != second.reservation_id:
        raise run.failure(
            expected=f"{call} called twice to return the same booking",
            found=f"two bookings, {first.reservation_id!r} and {second.reservation_id!r}", fix=fix)
    if not run.declares(Capability.ACCESS_CODES):
        return
    code, replayed = first.access_code, second.access_code
    if code is None or replayed is None:
        raise run.failure(
            expected="book() to return an access code (the connector declares access_codes), on the first "
                     "call and on its replay",
            found="no access code on the " + ("first call" if code is None else "replay"),
            fix="read the vendor's pickup/drop-off code from the booking answer into Reservation.access_code "
                "(an AccessCode), or stop declaring access_codes")
    if code.reveal() != replayed.reveal():
        raise run.failure(
            expected="a replayed book() to return the access code of the first call",
            found="two different access codes (values not shown)", fix=fix)


# --- (c) status mapping -------------------------------------------------------------------------------------------


@check
def check_status_mapping(run: Run) -> None:
    """Every code the vendor can send maps to a canonical status; an unknown code raises MappingError."""
    h = run.harness
    codes = list(h.status_codes)
    if not codes:
        raise run.failure(
            expected="harness.status_codes to list every status or event code the vendor can send",
            found="an empty collection", fix="list the vendor's codes (e.g. the keys of its statuses.yaml)")
    problems = []
    for code in codes:
        try:
            result = h.map_status(code)
        except MappingError:
            problems.append(f"{code!r} raised MappingError (not in the crosswalk)")
            continue
        except Exception as exc:  # noqa: BLE001 - reported with the other codes' problems
            problems.append(f"{code!r} raised {describe(exc)}")
            continue
        if canonical(result) is None:
            problems.append(f"{code!r} gave {result!r}, not a canonical ParcelStatus")
    if problems:
        raise run.failure(
            expected=f"each of the {len(codes)} codes in harness.status_codes to map to a canonical status",
            found=f"{len(problems)} that do not: " + "; ".join(problems[:5])
                  + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            fix="add every code the vendor sends to the connector's statuses.yaml with its canonical status")
    unknown = UNKNOWN_CODE
    while unknown in codes:
        unknown += "_"
    try:
        guessed = h.map_status(unknown)
    except MappingError:
        return
    except Exception as exc:
        raise run.failure(
            expected=f"map_status({unknown!r}), a code the vendor never sends, to raise "
                     "lockerhub.errors.MappingError", found=f"it raised {describe(exc)}",
            fix="look codes up in the crosswalk (lockerhub.model.crosswalk.Crosswalk.map raises MappingError)"
        ) from exc
    raise run.failure(
        expected=f"map_status({unknown!r}), a code the vendor never sends, to raise lockerhub.errors."
                 "MappingError", found=f"it was guessed as {canonical(guessed) or repr(guessed)}",
        fix="never guess a status: an unknown code must raise MappingError so the event is quarantined "
            "and the crosswalk can be extended")


# --- (d) webhook signatures ---------------------------------------------------------------------------------------


@check
def check_webhook_signature(run: Run) -> None:
    """A valid delivery verifies and parses; a wrong signature is an AuthError; a stale one a ReplayWindowError."""
    h, declares = run.harness, run.declares(Capability.WEBHOOKS)
    if h.webhook is None:
        if declares:
            raise run.failure(
                expected="harness.webhook (a factory of signed deliveries), since the connector declares "
                         "webhooks", found="None",
                fix="give the harness a webhook factory that signs deliveries as the vendor does, or stop "
                    "declaring Capability.WEBHOOKS")
        if not run.declares(Capability.POLL_STATUS):
            raise run.failure(
                expected="a connector whose vendor does not sign webhooks to poll for status (declare "
                         "Capability.POLL_STATUS: get_status is then its source of truth)",
                found="neither webhooks nor poll_status declared",
                fix="declare Capability.POLL_STATUS and make get_status return the vendor's events")
        pytest.skip("the vendor's webhooks are not signed (harness.webhook is None): the connector declares no "
                    "webhooks and polls for status (poll_status)")
    if not declares:
        raise run.failure(
            expected="a connector whose harness signs webhook deliveries to declare Capability.WEBHOOKS",
            found="harness.webhook is given but webhooks is not declared",
            fix="declare Capability.WEBHOOKS with verify_webhook and parse_webhook, or set harness.webhook to "
                "None")
    now = datetime.now(UTC)
    connector, factory = run.connector, h.webhook
    with run.calling("harness.webhook(now, True)", fix="make the harness's webhook factory build a delivery"):
        headers, body = factory(now, True)
    with run.calling("verify_webhook(headers, body, now=now) on a correctly signed, fresh delivery",
                     fix="verify the signature as the vendor computes it (the harness signs as the vendor does)"):
        delivery = connector.verify_webhook(headers, body, now=now)
    if not isinstance(delivery, str) or not delivery:
        raise run.failure(
            expected="verify_webhook to return the delivery's id (a non-empty string, the hub's dedup key)",
            found=f"{delivery!r}", fix="return the vendor's delivery id, or a digest of the signed body")
    with run.calling("parse_webhook(headers, body) on a verified delivery",
                     fix="parse the vendor's delivery body into VendorEvents mapped through the crosswalk"):
        events = connector.parse_webhook(headers, body)
    if not isinstance(events, list) or not events or not all(
            isinstance(e, VendorEvent) and isinstance(e.event.status, ParcelStatus) for e in events):
        raise run.failure(
            expected="parse_webhook to return a non-empty list of VendorEvent with canonical statuses "
                     "(the harness's delivery carries at least one event)",
            found=f"{type(events).__name__} of {len(events) if isinstance(events, list) else '?'} item(s)"
                  + ("" if isinstance(events, list) and all(isinstance(e, VendorEvent) for e in events)
                     else ", not all VendorEvent"),
            fix="return lockerhub.plugins.VendorEvent(reservation_id, ParcelEvent(...)) per event")
    _check_refusals(run, now)


def _check_refusals(run: Run, now: datetime) -> None:
    connector, factory = run.connector, run.harness.webhook
    assert factory is not None
    with run.calling("harness.webhook(now, False)", fix="make the harness's webhook factory build a delivery"):
        headers, body = factory(now, False)
    fix = "compare the delivery's signature with the one computed from the body and the secret (hmac.compare_digest)"
    try:
        connector.verify_webhook(headers, body, now=now)
    except ReplayWindowError as exc:
        raise run.failure(
            expected="a fresh delivery with a wrong signature to raise AuthError",
            found=f"ReplayWindowError ({exc.message})", fix=f"check the signature before the timestamp: {fix}"
        ) from exc
    except AuthError:
        pass
    except Exception as exc:
        raise run.failure(
            expected="a delivery with a wrong signature to raise lockerhub.errors.AuthError",
            found=f"it raised {describe(exc)}", fix=fix) from exc
    else:
        raise run.failure(
            expected="a delivery with a wrong signature to raise lockerhub.errors.AuthError",
            found="verify_webhook accepted it (returned a delivery id)", fix=fix)
    signed_at = now - STALE
    with run.calling("harness.webhook(now - 1 h, True)", fix="make the harness's webhook factory build a delivery"):
        headers, body = factory(signed_at, True)
    fix = ("compare the signed timestamp with now and raise lockerhub.errors.ReplayWindowError outside a window of "
           "a few minutes")
    try:
        connector.verify_webhook(headers, body, now=now)
    except ReplayWindowError:
        return
    except Exception as exc:
        raise run.failure(
            expected="a correctly signed delivery signed an hour ago to raise ReplayWindowError",
            found=f"it raised {describe(exc)}", fix=fix) from exc
    raise run.failure(
        expected="a correctly signed delivery signed an hour ago to raise ReplayWindowError",
        found="verify_webhook accepted it (no replay window)", fix=fix)


# --- (e) pagination -----------------------------------------------------------------------------------------------


@check
def check_pagination(run: Run) -> None:
    """list_lockers() pages to the end: every locker of the double, once."""
    if not run.declares(Capability.LIST_LOCKERS):
        pytest.skip("the connector does not declare list_lockers")
    h = run.harness
    expected, page = set(h.locker_ids), h.locker_page_size
    if len(expected) <= page:
        raise run.failure(
            expected=f"the harness's double to hold more lockers than one page ({page}), so that paging "
                     "to the end is tested", found=f"{len(expected)} lockers in harness.locker_ids",
            fix="generate more lockers in the harness's double (or give the true locker_page_size)")
    with run.calling("list_lockers()", fix="make list_lockers work against the double"):
        got = [locker.locker_id for locker in run.connector.list_lockers()]
    duplicates = [i for i, n in Counter(got).items() if n > 1]
    missing, unknown = expected - set(got), set(got) - expected
    if not (duplicates or missing or unknown):
        return
    found = [f"{len(got)} lockers ({len(set(got))} distinct)"]
    if missing:
        found.append(f"{len(missing)} missing (e.g. {_sample(missing)})")
    if duplicates:
        found.append(f"{len(duplicates)} listed more than once (e.g. {_sample(duplicates)})")
    if unknown:
        found.append(f"{len(unknown)} not in harness.locker_ids (e.g. {_sample(unknown)})")
    if len(got) <= page and missing:
        found.append(f"it stopped after the first page of {page}")
    raise run.failure(
        expected=f"list_lockers() to yield each of the double's {len(expected)} lockers once "
                 f"({math.ceil(len(expected) / page)} pages of {page})",
        found=", ".join(found),
        fix="follow the vendor's pagination (next cursor, link or total count) until its last page, "
            "and read each page once")


# --- (f) error mapping, (g) Retry-After ---------------------------------------------------------------------------


@check
def check_error_mapping(run: Run) -> None:
    """500 -> TransientError, 401 -> AuthError, and the next call works again."""
    table = ((500, TransientError, "5xx and 429 are TransientError (the runtime retries them)"),
             (401, AuthError, "401 and 403 are AuthError (retrying will not help)"))
    fix = ("map HTTP answers with lockerhub.plugins.http.raise_for_status (429/5xx -> TransientError, 401/403 -> "
           "AuthError, other 4xx -> RejectedError)")
    for status, expected, rule in table:
        _expect_error(run, status, None, expected, f"{rule}; {fix}")
    with run.calling(f"{run.probe_name} after the injected 401",
                     fix="do not keep state from a failed call: the next call must go to the vendor again"):
        run.probe()


@check
def check_retry_after(run: Run) -> None:
    """429 with Retry-After: 7 -> TransientError(retry_after=7)."""
    error = _expect_error(run, 429, RETRY_AFTER, TransientError,
                          "map 429 with lockerhub.plugins.http.raise_for_status (TransientError with retry_after)")
    if error.retry_after is None or not math.isclose(error.retry_after, RETRY_AFTER, abs_tol=1):
        raise run.failure(
            expected=f"a 429 with Retry-After: {RETRY_AFTER} to raise TransientError with retry_after="
                     f"{RETRY_AFTER}", found=f"retry_after={error.retry_after!r}",
            fix="read the Retry-After header into TransientError.retry_after (lockerhub.plugins.http."
                "retry_after_seconds): the runtime pauses the whole vendor for that long")


def _expect_error(run: Run, status: int, retry_after: float | None, expected: type[Exception], fix: str) -> Any:
    answer = f"HTTP {status}" + (f" with Retry-After: {retry_after:g}" if retry_after is not None else "")
    run.prepare_probe()
    with run.calling(f"harness.fail_next({status}, {retry_after!r})", fix="make the harness inject the fault"):
        run.harness.fail_next(status, retry_after)
    want = f"{run.probe_name}, answered {answer}, to raise {expected.__name__}"
    try:
        run.probe()
    except expected as exc:
        return exc
    except Exception as exc:
        raise run.failure(expected=want, found=f"it raised {describe(exc)}", fix=fix) from exc
    raise run.failure(
        expected=want, found="it returned normally (the error was swallowed, or the call never reached the "
                             "vendor)", fix=fix)


# --- (h) cancel ---------------------------------------------------------------------------------------------------


@check
def check_cancel_releases(run: Run) -> None:
    """A cancelled reservation's status, as get_status reports it, ends CANCELLED."""
    if not run.declares(Capability.CANCEL):
        pytest.skip("the connector does not declare cancel")
    reservation = run.reserve("to cancel it")
    rid = reservation.reservation_id
    with run.calling(f"cancel({rid!r}) on a reservation reserve() just made",
                     fix="make cancel release the reservation at the vendor"):
        run.connector.cancel(rid)
    with run.calling(f"get_status({rid!r}) after cancel", fix="make get_status read the vendor's events"):
        events = list(run.connector.get_status(rid))
    if not all(isinstance(e, VendorEvent) for e in events):
        raise run.failure(
            expected=f"get_status({rid!r}) to return a list of VendorEvent",
            found=f"items of type {_sample({type(e).__name__ for e in events})}",
            fix="return lockerhub.plugins.VendorEvent(reservation_id, ParcelEvent(...)) per vendor event")
    cancelled = [e.event.occurred_at for e in events if e.event.status == ParcelStatus.CANCELLED]
    later = [e for e in events if cancelled and e.event.status != ParcelStatus.CANCELLED
             and e.event.occurred_at > max(cancelled)]
    if cancelled and not later:
        return
    shown = ", ".join(str(e.event.status) for e in events) or "no events"
    raise run.failure(
        expected=f"get_status({rid!r}) after cancel to end CANCELLED",
        found=f"statuses {shown}" + (" (something happened after the cancellation)" if later else ""),
        fix="cancel at the vendor (not only in the connector), and map the vendor's cancellation event or "
            "state to CANCELLED in statuses.yaml")
