"""Generated X12 and EDIFACT files of a chosen size, for the EDI benchmark (fake data only)."""

from __future__ import annotations

import random


def x12_file(target_bytes: int, *, seed: int = 1, version: str = "004010") -> str:
    """One interchange with one group of 204 load tenders until ``target_bytes`` is reached."""
    rng = random.Random(seed)
    isa = ("ISA*00*          *00*          *ZZ*ACMETMS        *ZZ*LOCKERHUB      *260105*0800*^*00401*"
           "000000001*0*P*>~")
    out = [isa, f"GS*SM*ACMETMS*LOCKERHUB*20260105*0800*1*X*{version}~"]
    size, n = sum(len(s) for s in out), 0
    while size < target_bytes:
        n += 1
        body = [
            f"ST*204*{n:04d}~", f"B2**ACME**SHP{n:07d}**PP~", "B2A*00~",
            f"L11*LOCKER{rng.randint(1, 999):04d}*ZZ~", f"G62*64*20260105*1*0800~",
            "N1*CN*TEST RECIPIENT~", "N3*TEST STREET 1~", "N4*WARSZAWA**00-001*PL~",
            f"S5*1*CL*{rng.randint(1, 30)}*G*1*CT~", f"L5*1*PARCEL {n}~",
            f"AT8*G*K*{rng.randint(1, 25)}.{rng.randint(0, 9)}*1~",
        ]
        body.append(f"SE*{len(body) + 1}*{n:04d}~")
        out.extend(body)
        size += sum(len(s) for s in body)
    out += [f"GE*{n}*1~", "IEA*1*000000001~"]
    return "\n".join(out) + "\n"


def edifact_file(target_bytes: int, *, seed: int = 1) -> str:
    """One interchange of IFTMIN messages (with UNA and a few released characters) until ``target_bytes``."""
    rng = random.Random(seed)
    out = ["UNA:+.? '", "UNB+UNOC:3+ACMETMS:ZZ+LOCKERHUB:ZZ+260105:0800+1'"]
    size, n = sum(len(s) for s in out), 0
    while size < target_bytes:
        n += 1
        body = [
            f"UNH+{n}+IFTMIN:D:04A:UN'", f"BGM+610+SHP{n:07d}+9'", "DTM+137:202601050800:203'",
            "NAD+CN+++TEST RECIPIENT?+CO+TEST STREET 1+WARSZAWA++00-001+PL'",
            f"RFF+ZZZ:LOCKER{rng.randint(1, 999):04d}'", "GID+1+1:PK'",
            f"MEA+AAE+AAB+KGM:{rng.randint(1, 25)}.{rng.randint(0, 9)}'", "DIM+2+CMT:30:20:5'",
            f"GIN+BJ+00590000000{n:07d}'",
        ]
        body.append(f"UNT+{len(body) + 1}+{n}'")
        out.extend(body)
        size += sum(len(s) for s in body)
    out.append(f"UNZ+{n}+1'")
    return "\n".join(out) + "\n"
