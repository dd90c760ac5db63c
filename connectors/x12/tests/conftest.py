"""Fixtures for the X12 connector tests: a small builder of X12 text, so each test shows the file it reads.

Segments are written with ``*`` between elements and ``:`` between components and converted to the delimiters a
test asks for. ``after`` is what follows each terminator: ``"\\n"`` gives one segment per line, so in those files
segment N is on line N and error lines are easy to read. Names, phones and e-mails are fake (``Test Recipient``,
``@example.invalid``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

MAPPING = Path(__file__).parents[3] / "mappings" / "acme-x12" / "load_tender_204.yaml"


class X12:
    """Builds interchanges; every method returns plain text or lists of segment strings."""

    @staticmethod
    def isa(control: int = 1, *, version: str = "00401", es: str = "*", comp: str = ":", rep: str = "^",
            term: str = "~", sender: str = "ACMETMS", receiver: str = "LOCKERHUB", isa13: str | None = None) -> str:
        fields = ["00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ", receiver.ljust(15), "260314", "0930",
                  rep if version >= "00402" else "U", version, isa13 if isa13 is not None else f"{control:09d}", "0",
                  "T", comp]
        return "ISA" + es + es.join(fields) + term

    @staticmethod
    def tender(control: str = "0001", ref: str = "SHP-1", *, body: list[str] | None = None,
               count: int | None = None, se_control: str | None = None) -> list[str]:
        """A 204 transaction set: ST, the body (default: B2 + consignee + one parcel), SE with the right count."""
        if body is None:
            body = [f"B2**ACME**{ref}**PP", "L11*SIM-WAW-0001*ZZ", "N1*CN*Test Recipient", "N3*ul. Testowa 1",
                    "N4*Krakow**30-001*PL", "L5*1*PARCEL", "AT8*G*K*1.5*1", "L11*P1*2I", "L4*30*20*10*C"]
        segments = [f"ST*204*{control}", *body]
        segments.append(f"SE*{count if count is not None else len(segments) + 1}*{se_control or control}")
        return segments

    @staticmethod
    def group(*transactions: list[str], control: int = 1, count: int | None = None, ge_control: int | None = None,
              functional: str = "SM", version: str = "004010") -> list[str]:
        segments = [f"GS*{functional}*ACMETMS*LOCKERHUB*20260314*0930*{control}*X*{version}"]
        for transaction in transactions:
            segments.extend(transaction)
        n = len(transactions) if count is None else count
        segments.append(f"GE*{n}*{control if ge_control is None else ge_control}")
        return segments

    def interchange(self, *groups: list[str], control: int = 1, count: int | None = None,
                    iea_control: str | None = None, version: str = "00401", es: str = "*", comp: str = ":",
                    rep: str = "^", term: str = "~", after: str = "", trailer: bool = True) -> str:
        segments = [s for group in groups for s in group]
        if trailer:
            n = len(groups) if count is None else count
            segments.append(f"IEA*{n}*{iea_control if iea_control is not None else f'{control:09d}'}")
        head = self.isa(control, version=version, es=es, comp=comp, rep=rep, term=term) + after
        return head + "".join(self.convert(s, es=es, comp=comp) + term + after for s in segments)

    @staticmethod
    def convert(segment: str, *, es: str = "*", comp: str = ":") -> str:
        return segment.replace("*", "\x00").replace(":", comp).replace("\x00", es)

    def file(self, *interchanges: str) -> str:
        return "".join(interchanges)


@pytest.fixture
def x12() -> X12:
    return X12()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text as a file (UTF-8 unless ``encoding``) and return its path."""

    def write(text: str, name: str = "in.edi", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def mapping_path() -> Path:
    return MAPPING
