"""Status crosswalk files: load, report every error with file:line:col, and map codes."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from lockerhub.errors import ErrorGroup, MappingError, ValidationError
from lockerhub.model import ParcelStatus, lifecycle
from lockerhub.model.crosswalk import Crosswalk, Mapped, load_crosswalk


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(text: str, name: str = "statuses.yaml") -> Path:
        path = tmp_path / name
        path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


VALID = """
    source: simlocker
    codes:
      COURIER_DEPOSITED: DEPOSITED
      DOOR_FAULT: {status: EXCEPTION, reason: door_fault}
      PICKED_UP:
        status: COLLECTED
      NO_SPACE: {status: REJECTED, reason: no_compartment_fits}
"""


def test_valid_file_loads(write) -> None:  # type: ignore[no-untyped-def]
    crosswalk = load_crosswalk(write(VALID))
    assert crosswalk == Crosswalk(
        source="simlocker",
        codes={
            "COURIER_DEPOSITED": Mapped(ParcelStatus.DEPOSITED),
            "DOOR_FAULT": Mapped(ParcelStatus.EXCEPTION, "door_fault"),
            "PICKED_UP": Mapped(ParcelStatus.COLLECTED),
            "NO_SPACE": Mapped(ParcelStatus.REJECTED, "no_compartment_fits"),
        },
        file="statuses.yaml",
    )
    assert crosswalk.map("DOOR_FAULT") == Mapped(ParcelStatus.EXCEPTION, "door_fault")


def test_map_of_an_unknown_code_is_a_mapping_error(write) -> None:  # type: ignore[no-untyped-def]
    crosswalk = load_crosswalk(write(VALID))
    with pytest.raises(MappingError) as info:
        crosswalk.map("COURIER_LOST")
    assert str(info.value) == (
        "error: unknown simlocker status code: expected one of the 4 codes in statuses.yaml, found 'COURIER_LOST'"
    )


def test_map_is_case_sensitive(write) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MappingError):
        load_crosswalk(write(VALID)).map("courier_deposited")


def test_errors_are_collected_with_file_line_and_column(write) -> None:  # type: ignore[no-untyped-def]
    path = write(
        """
        source: simlocker
        codes:
          COURIER_DEPOSITED: DEPOSITED
          PARCEL_GONE: DELIVERED
          DOOR_FAULT: {status: EXCEPTION}
          JAMMED: {status: EXCEPTION, reason: jammed}
          REFUSED:
            status: REJECTED
        """
    )
    with pytest.raises(ErrorGroup) as info:
        load_crosswalk(path)
    group = info.value
    assert all(isinstance(e, ValidationError) for e in group.errors)
    # The position is that of the offending value (the status, or the mapping that lacks a reason).
    assert str(group).splitlines() == [
        (f"{path}:4:16: error: code PARCEL_GONE: unknown canonical status: "
         "expected a canonical status (lifecycle.yaml), found 'DELIVERED'"),
        (f"{path}:5:15: error: code DOOR_FAULT: EXCEPTION needs a reason: "
         "expected damaged | door_fault | lost | missing | oversized, found None"),
        (f"{path}:6:11: error: code JAMMED: EXCEPTION needs a reason: "
         "expected damaged | door_fault | lost | missing | oversized, found 'jammed'"),
        (f"{path}:8:5: error: code REFUSED: REJECTED needs a reason: "
         f"expected {' | '.join(sorted(lifecycle().reasons[ParcelStatus.REJECTED]))}, found None"),
    ]


def test_missing_source_is_reported_first_with_the_others(write) -> None:  # type: ignore[no-untyped-def]
    path = write(
        """
        codes:
          A: NOPE
        """
    )
    with pytest.raises(ErrorGroup) as info:
        load_crosswalk(path)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}:1:1: error: crosswalk: expected a 'source' key, found none",
        (f"{path}:2:6: error: code A: unknown canonical status: expected a canonical status (lifecycle.yaml), "
         "found 'NOPE'"),
    ]


def test_lower_case_status_is_not_canonical(write) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ErrorGroup) as info:
        load_crosswalk(write("source: x\ncodes:\n  D1: collected\n"))
    (error,) = info.value.errors
    assert (error.location.line, error.location.column) == (3, 7)  # type: ignore[union-attr]


def test_empty_codes_load(write) -> None:  # type: ignore[no-untyped-def]
    assert load_crosswalk(write("source: x12-214\n")).codes == {}


@pytest.mark.parametrize("code", ["NO", "Off", "010", "1_0"])
def test_codes_are_kept_as_written(write, code: str) -> None:  # type: ignore[no-untyped-def]
    crosswalk = load_crosswalk(write(f"source: edifact-iftsta\ncodes:\n  {code}: DEPOSITED\n"))
    assert crosswalk.map(code) == Mapped(ParcelStatus.DEPOSITED)


def test_error_position_survives_yaml_coercion(write) -> None:  # type: ignore[no-untyped-def]
    path = write("source: x12-214\ncodes:\n  010: DELIVERED\n")
    with pytest.raises(ErrorGroup) as info:
        load_crosswalk(path)
    assert str(info.value).startswith(f"{path}:3:8: error: code 010: ")


def test_unknown_key_in_a_code_entry_is_an_error(write) -> None:  # type: ignore[no-untyped-def]
    path = write("source: simlocker\ncodes:\n  PICKED_UP: {status: COLLECTED, raeson: x}\n")
    with pytest.raises(ErrorGroup):
        load_crosswalk(path)


def test_a_code_written_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "statuses.yaml"
    path.write_text("source: acme\ncodes:\n  IN: DEPOSITED\n  IN: COLLECTED\n", "utf-8")
    with pytest.raises(ErrorGroup) as info:
        load_crosswalk(path)
    assert str(info.value) == (f"{path}:4:3: error: duplicate key 'IN' (first written at line 3; the two would not "
                               "be merged)")
