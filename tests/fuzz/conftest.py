"""Fuzzing with hypothesis: arbitrary and mutated inputs for the readers of untrusted input (X12, EDIFACT, CSV,
mapping YAML). The property is always the same: a lockerhub error (:class:`LockerhubError`) or a result, never
another exception and never a hang.

Profiles (``HYPOTHESIS_PROFILE``):

- ``fuzz-ci`` (default): 200 examples per test, small inputs, the whole folder in well under a minute;
- ``long``: 20,000 examples per test and a longer deadline, for a run of an hour or so:
  ``HYPOTHESIS_PROFILE=long uv run pytest tests/fuzz -p no:cacheprovider``. Coverage-guided fuzzing with atheris
  is ``tests/fuzz/atheris_harness.py``.

Seeds are the golden fixtures beside the mappings, so mutations start from documents the readers accept.
A test that runs longer than ``LOCKERHUB_FUZZ_WATCHDOG`` seconds (default 600) dumps every thread's stack and stops
the run: a hang is reported where it happens instead of stalling CI.
"""

from __future__ import annotations

import faulthandler
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"

settings.register_profile("fuzz-ci", max_examples=200, deadline=timedelta(seconds=2), database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("long", max_examples=20_000, deadline=timedelta(seconds=10),
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fuzz_settings() -> settings:
    name = os.environ.get("HYPOTHESIS_PROFILE", "fuzz-ci")
    return settings.get_profile(name if name in ("fuzz-ci", "long") else "fuzz-ci")


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(int(os.environ.get("LOCKERHUB_FUZZ_WATCHDOG", "600")), exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


# Bytes that matter to the formats: delimiters, release characters, quotes, line ends, a BOM, invalid UTF-8.
INTERESTING = [b"~", b"*", b":", b"^", b"'", b"+", b"?", b"\n", b"\r\n", b"\r", b'"', b",", b";", b"\x00",
               b"\xef\xbb\xbf", b"\xff", b"\xc3", b"ISA", b"IEA", b"GS", b"GE", b"ST", b"SE", b"UNA", b"UNB", b"UNH",
               b"UNT", b"UNZ", b"UNG", b"UNE", b"{", b"}", b"[", b"- ", b": ", b"&a", b"*a", b"!!python/object", b"\t"]


def _edit(data: bytes, draw: Callable) -> bytes:  # type: ignore[type-arg]
    size = len(data)
    kind = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate", "splice"]))
    at = draw(st.integers(0, size))
    if kind == "flip" and size:
        at = min(at, size - 1)
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    if kind == "insert":
        piece = draw(st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=8)))
        return data[:at] + piece + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 16)):]
    if kind == "duplicate":
        end = min(size, at + draw(st.integers(1, 40)))
        return data[:end] + data[at:end] + data[end:]
    if kind == "truncate":
        return data[:at]
    other = draw(st.integers(0, size))
    lo, hi = sorted((at, other))
    return data[:lo] + data[hi:] + data[lo:hi]  # move a slice to the end


def mutated(seeds: list[bytes], *, max_edits: int = 6) -> st.SearchStrategy[bytes]:
    """A seed document with a few random edits (byte flips, inserted delimiters, cuts, duplicated slices)."""

    @st.composite
    def build(draw: Callable) -> bytes:  # type: ignore[type-arg]
        data = draw(st.sampled_from(seeds))
        for _ in range(draw(st.integers(1, max_edits))):
            data = _edit(data, draw)
        return data

    return build()


def inputs(seeds: list[bytes], *, alphabet: bytes = b"") -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, bytes built from the format's own tokens, or mutated seeds."""
    tokens = st.lists(st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=4),
                                st.sampled_from([bytes([c]) for c in alphabet] or [b"A"])), max_size=60)
    return st.one_of(st.binary(max_size=200), tokens.map(b"".join), mutated(seeds))


def seeds(*patterns: str) -> list[bytes]:
    found = sorted(p for pattern in patterns for p in MAPPINGS.glob(pattern))
    assert found, patterns
    return [p.read_bytes() for p in found]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def fuzz() -> SimpleNamespace:
    """The helpers above for the test modules (which cannot import this conftest): ``fuzz.settings`` decorates a
    ``@given`` function defined inside a test, ``fuzz.inputs``/``fuzz.mutated`` are strategies, ``fuzz.seeds``
    reads seed documents."""
    return SimpleNamespace(settings=fuzz_settings(), inputs=inputs, mutated=mutated, seeds=seeds, mappings=MAPPINGS)
