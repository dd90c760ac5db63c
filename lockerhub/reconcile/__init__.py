"""Three-way reconciliation: the TMS manifest, the hub's parcels and the locker vendor's reservations.

Sources
    - the TMS manifest: a CSV file of the parcels the TMS believes it sent (:mod:`lockerhub.reconcile.manifest`);
    - the hub: the ``parcels`` table, streamed with SQLAlchemy Core;
    - the vendor: its reservations, listed page by page by a connector with the ``list_reservations`` capability,
      each state mapped to a canonical status by the connector's crosswalk.

Discrepancies (:class:`Kind`), each found once per run, and what is done about them (:class:`Action`)
    - ``missing_in_vendor``: the hub has an active booking (BOOKED up to RETURNING) the vendor does not list.
      Quarantined.
    - ``missing_in_hub``: the manifest lists a parcel the hub never received. Quarantined.
    - ``status_mismatch``: the vendor's status maps to another canonical status than the hub's. When the vendor is
      ahead (a move the lifecycle allows), its status is applied through the event path, forward-only;
      otherwise it is quarantined.
    - ``orphan_booking``: a live vendor booking no hub parcel refers to. Quarantined.
    - A parcel still CREATED that holds a reservation (soft-reserved, confirm pending) is left to booking, which
      resumes it: its reservation is never an orphan or stale, and its vendor status is not applied.
    - ``stale_reservation``: a soft hold no hub parcel refers to, past its expiry (or past the TTL when it has
      none), never confirmed. Cancelled at the vendor when the connector can cancel, otherwise quarantined.

Quarantine items go in at stage ``reconcile``, one open item per discrepancy across runs. ``dry_run`` only
reports. Every run writes ``reconciliation.csv`` and ``reconciliation.html`` (see :mod:`lockerhub.reconcile.report`).
"""

from lockerhub.reconcile.manifest import BadRow, Manifest
from lockerhub.reconcile.model import Action, Discrepancy, Kind, ReconcileResult
from lockerhub.reconcile.run import DEFAULT_SOFT_TTL, Reconciler, reconcile, reconcile_config

__all__ = [
    "DEFAULT_SOFT_TTL",
    "Action",
    "BadRow",
    "Discrepancy",
    "Kind",
    "Manifest",
    "ReconcileResult",
    "Reconciler",
    "reconcile",
    "reconcile_config",
]
