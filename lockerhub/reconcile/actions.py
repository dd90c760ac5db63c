"""What happens to each discrepancy: a fix where it is safe, otherwise one quarantine item.

- ``status_mismatch`` with the vendor ahead: the vendor's status is recorded through the event path
  (:func:`~lockerhub.runtime.events.record_event`), forward-only, with the outbox message to the TMS in the same
  transaction. The row is read again first and judged again, so a parcel that moved meanwhile is not pushed
  anywhere the lifecycle does not allow. The event id is derived from the reservation and the status, so the same
  fix never applies twice.
- ``stale_reservation`` when the vendor can cancel: the hold is cancelled at the vendor (bounded retries). A
  refusal goes to quarantine; an unreachable vendor (or an open circuit breaker) leaves it for the next run.
- Everything else is quarantined at stage ``reconcile``, with where and why. The payload is the discrepancy's
  kind and keys, so the quarantine fingerprint makes a daily run find the open item again (its attempts grow)
  instead of adding a second one.

Absence of data never triggers a fix: only positive evidence from the vendor (a status ahead of the hub's, a hold
nobody refers to) is acted on. With ``dry_run`` nothing is written or sent, and the outcome says what would be done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from lockerhub.errors import LockerhubError, TransientError
from lockerhub.model import ParcelEvent, ParcelStatus
from lockerhub.model.state_machine import Outcome
from lockerhub.reconcile.engine import Verdict, judge, state_bits
from lockerhub.reconcile.manifest import BadRow
from lockerhub.reconcile.model import Action, Discrepancy, Kind
from lockerhub.runtime import quarantine
from lockerhub.runtime.breaker import VendorCall
from lockerhub.runtime.events import record_event
from lockerhub.security.crypto import FieldCipher
from lockerhub.store import ParcelRow, Store

STAGE = "reconcile"
BATCH = 200  # quarantine items per transaction


@dataclass(slots=True)
class Actor:
    store: Store
    cipher: FieldCipher
    vendor: object
    vendor_id: str
    call_vendor: VendorCall  # (operation, fn): breaker + bounded retries, see Hub.call_vendor
    clock: Callable[[], datetime]
    manifest: str

    def act(self, discrepancies: Sequence[Discrepancy], *, dry_run: bool) -> None:
        """Set each discrepancy's ``outcome``, doing what its action says unless ``dry_run``."""
        held: list[Discrepancy] = []
        fixes: list[Discrepancy] = []
        for d in discrepancies:
            if dry_run:
                d.outcome = {Action.APPLY_VENDOR_STATUS: "would apply", Action.CANCEL_AT_VENDOR: "would cancel",
                             Action.QUARANTINE: "would quarantine"}[d.action]
            elif d.action is Action.APPLY_VENDOR_STATUS:
                fixes.append(d)
            elif d.action is Action.CANCEL_AT_VENDOR:
                self._cancel(d, held)
            else:
                held.append(d)
        for start in range(0, len(fixes), BATCH):
            self._apply(fixes[start:start + BATCH], held)
        for start in range(0, len(held), BATCH):
            with self.store.transaction() as s:
                for d in held[start:start + BATCH]:
                    d.outcome = quarantine.put(s, self.cipher, source=self._source(d), partner=d.partner,
                                               location=self.location(d), stage=STAGE, errors=[self.error(d)],
                                               payload=payload(d, self.vendor_id)).qid

    def _apply(self, batch: Sequence[Discrepancy], held: list[Discrepancy]) -> None:
        """Apply the vendor's status to each parcel of ``batch`` (one transaction), judged again on the row as it
        is now: a forward move is recorded, anything else is resolved or goes to quarantine."""
        with self.store.transaction() as s:
            rows = {r.id: r for r in s.scalars(select(ParcelRow).where(
                ParcelRow.id.in_([d.parcel_pk for d in batch])))}
            for d in batch:
                assert d.parcel_pk is not None and d.vendor_status is not None
                status = ParcelStatus(d.vendor_status)
                row = rows.get(d.parcel_pk)
                if row is None:
                    d.outcome = "resolved: the parcel is gone"
                    continue
                verdict, why = judge(state_bits(row.status, row.interrupted), status, d.vendor_reason)
                if verdict is Verdict.CONSISTENT:
                    d.outcome = "resolved"
                    continue
                if verdict is not Verdict.AHEAD:  # the hub moved since it was read: a person decides
                    d.hub_status, d.hub_over, d.why = row.status, row.interrupted, why
                    d.action = Action.QUARANTINE
                    held.append(d)
                    continue
                outcome = record_event(s, row, ParcelEvent(
                    status=status, reason=d.vendor_reason, occurred_at=self.clock(), source=self.vendor_id,
                    raw_code=d.vendor_state, locker_id=d.locker_id,
                    event_id=f"reconcile:{d.reservation_id}:{status}"))
                d.outcome = "applied" if outcome is Outcome.APPLIED else f"resolved: {outcome}"

    def _cancel(self, d: Discrepancy, held: list[Discrepancy]) -> None:
        assert d.reservation_id is not None
        rid = d.reservation_id
        try:
            self.call_vendor("cancel", lambda: self.vendor.cancel(rid))  # type: ignore[attr-defined]
        except TransientError:
            d.outcome = "deferred: vendor unreachable"
            return
        except LockerhubError as exc:
            d.why += f"; cancelling it failed: {exc.message}"
            d.action = Action.QUARANTINE
            held.append(d)
            return
        d.outcome = "cancelled"

    # --- quarantine items ---------------------------------------------------------------------------------

    def _source(self, d: Discrepancy) -> str:
        return self.manifest if d.kind is Kind.MISSING_IN_HUB else self.vendor_id

    def location(self, d: Discrepancy) -> str:
        if d.kind is Kind.MISSING_IN_HUB:
            return f"{self.manifest}:{d.manifest_line}"
        if d.parcel is not None:
            return f"parcel {d.parcel}"
        return f"reservation {d.reservation_id} at {self.vendor_id}"

    def error(self, d: Discrepancy) -> str:
        return (f"{self.location(d)}: error: {d.kind}: {d.why} (manifest: {d.says_manifest()}; hub: {d.says_hub()}; "
                f"vendor: {d.says_vendor()})")

    def quarantine_bad_rows(self, rows: Sequence[BadRow]) -> list[str]:
        """Keep each bad manifest row with its located errors; returns the quarantine ids."""
        qids: list[str] = []
        for start in range(0, len(rows), BATCH):
            with self.store.transaction() as s:
                for bad in rows[start:start + BATCH]:
                    qids.append(quarantine.put(s, self.cipher, source=self.manifest, partner=bad.partner,
                                               location=f"{self.manifest}:{bad.line}", stage=STAGE,
                                               errors=list(bad.errors), payload=bad.raw).qid)
        return qids


def payload(d: Discrepancy, vendor_id: str) -> str:
    """What identifies a discrepancy across runs: its kind and keys (no file names, lines or statuses)."""
    return json.dumps({"kind": str(d.kind), "partner": d.partner, "shipment_ref": d.shipment_ref,
                       "parcel_id": d.parcel_id, "reservation_id": d.reservation_id, "vendor": vendor_id},
                      sort_keys=True)
