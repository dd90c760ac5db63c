"""X12 and EDIFACT readers on arbitrary and mutated input: envelopes parsed and validated, trees described, and each
connector reading a file through its partner's mapping. Only lockerhub errors or results, never another exception."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given
from lockerhub_edi.describe import document_dict
from lockerhub_edifact import envelope as edifact_envelope
from lockerhub_edifact.config import EdifactConfig
from lockerhub_edifact.connector import EdifactConnector
from lockerhub_x12 import envelope as x12_envelope
from lockerhub_x12.config import X12Config
from lockerhub_x12.connector import X12Connector

from lockerhub.errors import LockerhubError

_names = itertools.count()


def outcome(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or None when it raised a lockerhub error; any other exception fails the test."""
    try:
        return call()
    except LockerhubError as exc:
        assert exc.render()  # every error renders as one located line
        return None


def rendered(errors: Any) -> None:
    for error in errors:
        assert isinstance(error, LockerhubError) and error.render()


def read_all(connector: Any, path: Path, partner: str) -> None:
    for record in connector.read(path, partner=partner):
        rendered(record.errors)
        assert (record.shipment is None) or not record.errors
        assert str(record.location)


def test_x12_envelope_parse_and_validate(fuzz) -> None:  # type: ignore[no-untyped-def]
    @fuzz.settings
    @given(fuzz.inputs(fuzz.seeds("acme-x12/tests/*.edi"), alphabet=b"*~:^>"))
    def run(data: bytes) -> None:
        document = outcome(lambda: x12_envelope.parse(io.BytesIO(data), file="fuzz.edi"))
        if document is not None:
            rendered(document.errors)
            outcome(lambda: document_dict(list(document.interchanges)))
        errors = outcome(lambda: x12_envelope.validate(io.BytesIO(data), file="fuzz.edi"))
        rendered(errors or [])
        text = data.decode("latin-1")
        outcome(lambda: x12_envelope.parse(text, file="fuzz.edi"))  # a str source takes another path

    run()


def test_edifact_envelope_parse_and_validate(fuzz) -> None:  # type: ignore[no-untyped-def]
    @fuzz.settings
    @given(fuzz.inputs(fuzz.seeds("acme-edifact/tests/*.edi"), alphabet=b"+:'?.* "))
    def run(data: bytes) -> None:
        document = outcome(lambda: edifact_envelope.parse(data, file="fuzz.edi"))
        if document is not None:
            rendered(document.errors)
            outcome(lambda: document_dict(list(document.interchanges)))
        rendered(outcome(lambda: edifact_envelope.validate(io.BytesIO(data), file="fuzz.edi")) or [])
        outcome(lambda: list(edifact_envelope.iter_messages(data, file="fuzz.edi", chunk_size=16)))

    run()


def test_x12_connector_reads_through_its_mapping(fuzz, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    connector = X12Connector(X12Config(inbox=workdir, mapping=fuzz.mappings / "acme-x12" / "load_tender_204.yaml",
                                       partner_id="ACMETMS"))

    @fuzz.settings
    @given(fuzz.inputs(fuzz.seeds("acme-x12/tests/*204*.edi", "acme-x12/tests/bad_se_count.edi"),
                       alphabet=b"*~:^>"))
    def run(data: bytes) -> None:
        path = workdir / f"x12-{next(_names)}.edi"
        path.write_bytes(data)
        outcome(lambda: read_all(connector, path, "acme-x12"))
        outcome(lambda: X12Connector.sender_of(path))
        path.unlink()

    run()


def test_edifact_connector_reads_through_its_mapping(fuzz, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    connector = EdifactConnector(EdifactConfig(inbox=workdir, mapping=fuzz.mappings / "acme-edifact" / "iftmin.yaml",
                                               partner_id="ACMEEU"))

    @fuzz.settings
    @given(fuzz.inputs(fuzz.seeds("acme-edifact/tests/iftmin*.edi"), alphabet=b"+:'?.* "))
    def run(data: bytes) -> None:
        path = workdir / f"edifact-{next(_names)}.edi"
        path.write_bytes(data)
        outcome(lambda: read_all(connector, path, "acme-edifact"))
        outcome(lambda: EdifactConnector.sender_of(path))
        path.unlink()

    run()
