"""Seeded TMS shipment drops (CSV) for the pilot and tests: realistic mixes of sizes, a few broken rows.

All personal data is obviously fake (``Test Recipient 0001``, ``+48000000001``, ``@example.invalid``). Every
parcel gets a valid SSCC-18 under a fictitious company prefix; the broken rows carry the defects integrators
meet in real drops (a word for a weight, a wrong SSCC check digit, a missing parcel id).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

from lockerhub.model import Locker
from lockerhub.model.identifiers import sscc_check_digit

HEADER = ["shipment_ref", "parcel_id", "sscc", "recipient_name", "recipient_phone", "recipient_email",
          "postal_code", "city", "locker_id", "length_cm", "width_cm", "height_cm", "weight_kg", "temperature"]
COMPANY_PREFIX = "0590000"  # extension digit 0 + a fictitious GS1 prefix; serials follow


@dataclass(frozen=True, slots=True)
class Drop:
    name: str
    content: bytes
    rows: int
    broken: int


def sscc_for(serial: int) -> str:
    body = f"{COMPANY_PREFIX}{serial:010d}"
    return body + str(sscc_check_digit(body))


def _size(rng: random.Random) -> tuple[str, str, str, str]:
    roll = rng.random()
    if roll < 0.50:
        dims = (rng.randint(15, 60), rng.randint(10, 35), rng.randint(2, 7))
    elif roll < 0.85:
        dims = (rng.randint(20, 60), rng.randint(15, 35), rng.randint(9, 18))
    elif roll < 0.97:
        dims = (rng.randint(30, 60), rng.randint(20, 35), rng.randint(20, 40))
    else:  # too large for any compartment
        dims = (rng.randint(70, 120), rng.randint(40, 60), rng.randint(45, 60))
    weight = rng.choice([0.2, 0.5, 0.8, 1.2, 2.5, 4.0, 7.5, 12.0, 18.0])
    return (*(f"{d}" for d in dims), f"{weight}")


def rows(count: int, lockers: Sequence[Locker], *, seed: int, first: int = 1) -> list[list[str]]:
    """``count`` valid parcel rows addressed to recipients near the given lockers."""
    rng = random.Random(seed)
    out = []
    for n in range(first, first + count):
        locker = rng.choice(lockers)
        chosen = locker.locker_id if rng.random() < 0.9 else ""  # some recipients let the hub choose
        length, width, height, weight = _size(rng)
        out.append([
            f"ACME-{n:06d}", f"P{n:07d}", sscc_for(n), f"Test Recipient {n:04d}", f"+48000{n:06d}",
            f"recipient{n:04d}@example.invalid", locker.postal_code or "", locker.city or "", chosen,
            length, width, height, weight, "ambient",
        ])
    return out


def break_rows(data: list[list[str]], rng: random.Random, count: int) -> int:
    """Damage ``count`` rows in place (one defect each); returns how many were damaged."""
    picks = rng.sample(range(len(data)), min(count, len(data)))
    for i, index in enumerate(picks):
        row = data[index]
        kind = i % 3
        if kind == 0:
            row[12] = "twelve"
        elif kind == 1:
            row[2] = row[2][:-1] + str((int(row[2][-1]) + 1) % 10)
        else:
            row[1] = ""
    return len(picks)


def render(data: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", newline: str = "\n") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows(data)
    return buf.getvalue().encode(encoding)


def pilot_drops(parcels: int, lockers: Sequence[Locker], *, seed: int, broken_per_file: int = 2) -> list[Drop]:
    """Two drops (UTF-8 with commas and LF; UTF-8 with a BOM, semicolons and CRLF, as Windows tools write),
    then the first drop re-sent under another name, as TMSs do after a time-out."""
    rng = random.Random(seed)
    data = rows(parcels, lockers, seed=seed)
    cut = max(1, parcels * 3 // 5) if parcels > 1 else parcels
    first, second = data[:cut], data[cut:]
    broken_first = break_rows(first, rng, broken_per_file)
    broken_second = break_rows(second, rng, broken_per_file) if second else 0
    one = render(first)
    drops = [Drop("acme_0800.csv", one, len(first), broken_first)]
    if second:
        drops.append(Drop("acme_1400.csv", render(second, delimiter=";", encoding="utf-8-sig", newline="\r\n"),
                          len(second), broken_second))
    drops.append(Drop("acme_0800_resent.csv", one, len(first), broken_first))
    return drops
