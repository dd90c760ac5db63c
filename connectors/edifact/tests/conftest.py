"""Fixtures for the EDIFACT connector tests: a small builder for interchanges (fake data only: "Test Recipient",
``@example.invalid``, SSCCs with the GS1 test prefix 059012345)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SSCC_1 = "005901234500000016"
SSCC_2 = "005901234500000023"


class Build:
    """Segments are written without terminators; ``interchange`` joins them one per line."""

    @staticmethod
    def message(ref: str, *body: str, count: int | None = None, kind: str = "IFTMIN:D:04A:UN",
                trailer_ref: str | None = None) -> list[str]:
        n = len(body) + 2 if count is None else count
        return [f"UNH+{ref}+{kind}", *body, f"UNT+{n}+{ref if trailer_ref is None else trailer_ref}"]

    @staticmethod
    def iftmin(ref: str = "1", *, number: str = "SHP1", name: str = "Test Recipient", count: int | None = None,
               parcels: tuple[str, ...] = (SSCC_1,)) -> list[str]:
        body = [f"BGM+610+{number}+9", "RFF+ZZZ:KRA01M", "NAD+CZ+++ACME Dispatch", "COM+0048000000099:TE",
                f"NAD+CN+++{name}+Test Street 1+Warszawa++00-001+PL", "COM+0048000000001:TE",
                "COM+recipient@example.invalid:EM"]
        for i, sscc in enumerate(parcels, 1):
            body += [f"GID+{i}+1:PK", "MEA+AAE+AAB+KGM:1.5", "DIM+2+CMT:30:20:10", "PCI+33E", f"GIN+BJ+{sscc}"]
        return Build.message(ref, *body, count=count)

    @staticmethod
    def interchange(*messages: list[str], ref: str = "1", syntax: str = "UNOC:3", una: str | None = "UNA:+.? '",
                    count: int | None = None, trailer_ref: str | None = None, trailer: bool = True) -> str:
        segments = [f"UNB+{syntax}+ACMETMS:ZZ+LOCKERHUB:ZZ+260105:0800+{ref}"]
        for message in messages:
            segments += message
        if trailer:
            n = len(messages) if count is None else count
            segments.append(f"UNZ+{n}+{ref if trailer_ref is None else trailer_ref}")
        text = "".join(f"{s}'\n" for s in segments)
        return f"{una}\n{text}" if una else text


@pytest.fixture
def build() -> type[Build]:
    return Build


@pytest.fixture
def iftmin_mapping() -> Path:
    return ROOT / "mappings" / "acme-edifact" / "iftmin.yaml"
