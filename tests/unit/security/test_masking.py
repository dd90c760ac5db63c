"""Masking: registered secrets and personal-data patterns are redacted from every log record, whichever handler
writes it (the root's, a library's own, an exception's traceback)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockerhub.model import Address, Party, pii_fields
from lockerhub.security import masking
from lockerhub.security.masking import MASK, redact

API_KEY = "sim-test-0123456789abcdef"  # test-only value, not a credential


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    log_file = tmp_path / "logs" / "hub.log"
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", API_KEY)
    monkeypatch.setenv("LOCKERHUB_DATABASE_URL", "postgresql://hub:pg-test-password@127.0.0.1/hub")
    root = logging.getLogger()
    level = root.level
    masking.install(level="DEBUG", log_file=log_file)
    try:
        yield log_file
    finally:
        masking.uninstall()
        masking.masker.clear()
        root.setLevel(level)


@pytest.mark.parametrize(("text", "expected"), [
    ("sent to recipient0001@example.invalid", f"sent to {MASK}"),
    ("call +48000000001, +48 600 000 001 or 0048000000001", f"call {MASK}, {MASK} or {MASK}"),
    ("national 600-000-001", f"national {MASK}"),
    ("access_code=123456 issued", f"access_code={MASK} issued"),
    ('{"access_code": "123456", "locker_id": "SIM-WAW-0001"}',
     f'{{"access_code": "{MASK}", "locker_id": "SIM-WAW-0001"}}'),
    ("{'X-API-Key': 'abc-123-def', 'Accept': 'application/json'}",
     f"{{'X-API-Key': '{MASK}', 'Accept': 'application/json'}}"),
    ("Authorization: Bearer abcdefghijklmnopqrstu", f"Authorization: Bearer {MASK}"),
    ("postgresql://hub:s3cret-pw@db.internal/hub", f"postgresql://hub:{MASK}@db.internal/hub"),
    ('{"name": "Test Recipient 0001", "street": "ul. Testowa 1", "city": "Krakow"}',
     f'{{"name": "{MASK}", "street": "{MASK}", "city": "Krakow"}}'),
    ("recipient_phone=+48000000001", f"recipient_phone={MASK}"),
])
def test_patterns(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "SSCC 005901234500000016 booked at 2026-01-05T08:00:00.123456+00:00",
    "booked 120 parcels in 3 lockers; basic checks passed",
    "parcel P0000001 of shipment ACME-000001 at SIM-WAW-0001 (size M)",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_pii_keys_follow_the_canonical_models() -> None:
    assert set(pii_fields(Party)) | set(pii_fields(Address)) == set(masking.PII_KEYS)


def test_registered_values_are_masked_longest_first() -> None:
    masking.register_pii("Test Recipient 0042")
    masking.register_secret("short")  # too short to register: it would mask ordinary words
    try:
        assert redact("for Test Recipient 0042 (short)") == f"for {MASK} (short)"
    finally:
        masking.masker.clear()


def test_every_record_is_redacted_whatever_writes_it(installed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    own = io.StringIO()
    library = logging.getLogger("some.library")
    handler = logging.StreamHandler(own)  # a library's own handler, not ours (as uvicorn configures itself)
    library.addHandler(handler)
    library.propagate = False
    try:
        library.debug("request headers %s", {"X-API-Key": API_KEY})
        logging.getLogger("lockerhub.test").debug("recipient %s, phone %s", "recipient0001@example.invalid",
                                                  "+48000000001")
        try:
            raise ValueError(f"cannot connect to postgresql://hub:pg-test-password@127.0.0.1/hub as {API_KEY}")
        except ValueError:
            logging.getLogger("lockerhub.test").exception("failed")
    finally:
        library.removeHandler(handler)
        library.propagate = True
    written = own.getvalue() + installed.read_text("utf-8") + capsys.readouterr().err
    for secret in (API_KEY, "pg-test-password", "recipient0001@example.invalid", "+48000000001"):
        assert secret not in written
    assert f"request headers {{'X-API-Key': '{MASK}'}}" in own.getvalue()
    assert "Traceback" in installed.read_text("utf-8") and "ValueError" in installed.read_text("utf-8")


def test_protect_adds_the_filter_to_foreign_handlers() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("airflow.task.test")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        masking.protect(logger)
        masking.protect(logger)  # once is enough
        assert sum(isinstance(f, masking.MaskingFilter) for f in handler.filters) == 1
        logger.warning("mail %s", "recipient0001@example.invalid")
        assert stream.getvalue().strip() == f"mail {MASK}"
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_key_ring_entries_are_masked_one_by_one() -> None:
    masking.register_from_env({"LOCKERHUB_PII_KEYS": "ka:QUFBQUFBQUFBQUFBQUFBQUFBQUE=,kb:QkJCQkJCQkJCQkJCQkJCQkJCQkI="})
    try:
        assert redact("key QkJCQkJCQkJCQkJCQkJCQkJCQkI= seen") == f"key {MASK} seen"
    finally:
        masking.masker.clear()


def test_an_unknown_level_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from lockerhub.errors import ConfigError

    monkeypatch.setenv("LOCKERHUB_LOG_LEVEL", "loud")
    level = logging.getLogger().level
    try:
        with pytest.raises(ConfigError, match="LOCKERHUB_LOG_LEVEL: expected DEBUG, INFO"):
            masking.install(handlers=False)
    finally:
        masking.uninstall()
        logging.getLogger().setLevel(level)


@pytest.mark.parametrize(("text", "hidden"), [
    ('{"id": 7, "pickup_code": "123456", "status": "confirmed"}', "123456"),  # ShipX
    ('{"consigneeCollectionCode": {"code": "654321", "validUntil": "2026-01-05T08:00:00+00:00"}}', "654321"),  # GLS
    ('{"parcelId": "9200001", "pin": "4455"}', "4455"),  # BoxNow
    ('{"reservation_id": "rsv-1", "code": "998877"}', "998877"),  # a recipient's pickup with a bare code
])
def test_vendor_access_codes_are_masked(text: str, hidden: str) -> None:
    masked = masking.masker.redact(text)
    assert hidden not in masked and masking.MASK in masked


def test_status_codes_stay_readable() -> None:
    text = '{"code": "BOOKING_CONFIRMED", "status": "ready_to_pickup"}'
    assert masking.masker.redact(text) == text
