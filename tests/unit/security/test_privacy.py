"""How a GDPR subject is recognised: in decrypted recipients and in quarantined payloads of every format."""

from __future__ import annotations

import pytest

from lockerhub.errors import LockerhubError
from lockerhub.security.privacy import Subject


@pytest.mark.parametrize("given", ["+48 000 000 003", "0048000000003", "+48-000-000-003", "(+48) 000 000 003"])
def test_phone_numbers_compare_by_digits(given: str) -> None:
    subject = Subject.parse(given)
    assert subject == Subject("phone", "48000000003")
    assert subject.is_party({"phone": "+48000000003"})
    assert not subject.is_party({"phone": "+48000000004"}) and not subject.is_party({"phone": None})


@pytest.mark.parametrize(("payload", "found"), [
    ("ACME-000003,P0000003,059000000000000030,Test Recipient 0003,+48000000003,r3@example.invalid", True),
    ("G61*IC*Test Recipient 0003*TE*+48000000003~", True),
    ("COM+0048000000003:TE'", True),
    ("tel. +48 000 000 003 12", True),
    ("ACME-000004,P0000004,059000000000000047,Test Recipient 0004,+48000000004,r4@example.invalid", False),
    ('{"status": "BOOKED", "parcel_id": "P0000003"}', False),
])
def test_a_phone_number_is_found_in_payloads(payload: str, found: bool) -> None:
    assert Subject.parse("+48000000003").mentioned_in(payload) is found


def test_email_addresses_compare_without_case() -> None:
    subject = Subject.parse(" Recipient0003@Example.Invalid ")
    assert subject == Subject("email", "recipient0003@example.invalid")
    assert subject.is_party({"email": "RECIPIENT0003@example.invalid"})
    assert subject.mentioned_in("...,RECIPIENT0003@EXAMPLE.INVALID,...")
    assert not subject.mentioned_in("recipient0004@example.invalid")


@pytest.mark.parametrize("given", ["Test Recipient 0003", "12345", "not-an-address@", ""])
def test_anything_else_is_refused_without_echoing_it(given: str) -> None:
    with pytest.raises(LockerhubError) as info:
        Subject.parse(given)
    assert "expected an e-mail address or a phone number" in info.value.render()
    assert not given or given not in info.value.render()


def test_pseudonyms_are_keyed_and_stay_checkable_after_a_rotation() -> None:
    import base64
    from pathlib import Path

    from lockerhub.security.crypto import FieldCipher

    old = "ka:" + base64.b64encode(bytes([1]) * 32).decode()  # test-only keys, not secrets
    new = "kb:" + base64.b64encode(bytes([2]) * 32).decode()
    before = FieldCipher.from_env_or_file(old, Path("/nonexistent")).pseudonym("48000000003", context="c")
    rotated = FieldCipher.from_env_or_file(f"{new},{old}", Path("/nonexistent"))
    assert before.startswith("ka:") and "48000000003" not in before
    assert rotated.pseudonym("48000000003", context="c", kid="ka") == before
    assert rotated.pseudonym("48000000003", context="c").startswith("kb:")
    assert rotated.pseudonym("48000000004", context="c", kid="ka") != before
