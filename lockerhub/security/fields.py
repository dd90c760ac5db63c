"""Every encrypted column of the store, in one table: key rotation, key status and GDPR export/erase read it.

A new encrypted column is one more line here (its row class, attribute and encryption context); the rotation and
status commands then cover it, and a test fails when a ``*_enc`` column is missing from this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lockerhub.runtime.booking import ACCESS_CODE_CONTEXT
from lockerhub.runtime.ingest import RECIPIENT_CONTEXT
from lockerhub.runtime.quarantine import PAYLOAD_CONTEXT
from lockerhub.security.access import TOTP_CONTEXT
from lockerhub.store import OpsUserRow, ParcelRow, QuarantineRow


@dataclass(frozen=True, slots=True)
class EncryptedField:
    name: str  # shown to users: parcels.recipient
    row: type[Any]
    column: str  # attribute of ``row`` holding the ciphertext
    context: str  # associated data the value is bound to

    @property
    def attr(self) -> Any:
        return getattr(self.row, self.column)

    @property
    def pk(self) -> Any:
        return self.row.__mapper__.primary_key[0]


ENCRYPTED_FIELDS: tuple[EncryptedField, ...] = (
    EncryptedField("parcels.recipient", ParcelRow, "recipient_enc", RECIPIENT_CONTEXT),
    EncryptedField("parcels.access_code", ParcelRow, "access_code_enc", ACCESS_CODE_CONTEXT),
    EncryptedField("quarantine.payload", QuarantineRow, "payload_enc", PAYLOAD_CONTEXT),
    EncryptedField("ops_users.totp_secret", OpsUserRow, "totp_secret_enc", TOTP_CONTEXT),
)
