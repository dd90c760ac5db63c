"""lockerhub.errors: one compiler-style line per error, sorted by position.

(Mirrors ``lockerhub/errors.py``; kept under tests/unit/model/ because the model raises these errors.)
"""

from __future__ import annotations

import pickle

import pytest

from lockerhub.errors import (
    AuthError,
    ConfigError,
    ErrorGroup,
    Location,
    LockerhubError,
    MappingError,
    ParseError,
    RegistryError,
    TransientError,
    TransitionError,
    ValidationError,
    VendorError,
    errors_sorted,
)


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (Location("a.yaml", 14, 7), "a.yaml:14:7"),
        (Location("a.yaml", 14), "a.yaml:14"),
        (Location("a.yaml"), "a.yaml"),
        (Location(line=3, column=2), "<input>:3:2"),
        (Location("a.yaml", column=7), "a.yaml"),  # a column without a line means nothing
        (Location("in/acme.edi", 12, 3, segment="N4", element="03"), "in/acme.edi:12:3 (N4-03)"),
        (Location("in/acme.edi", 12, segment="N4"), "in/acme.edi:12 (N4)"),
    ],
)
def test_location_renders_file_line_column(location: Location, text: str) -> None:
    assert str(location) == text


def test_error_renders_file_line_col_message_expected_found() -> None:
    error = ValidationError("column weight_kg", location=Location("inbox/acme.csv", 37, 5),
                            expected="a number", found="'twelve'")
    assert str(error) == "inbox/acme.csv:37:5: error: column weight_kg: expected a number, found 'twelve'"
    assert error.args == (str(error),)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        # the style guide's own examples
        (LockerhubError("unknown canonical field 'parcel.weigth'",
                        location=Location("mappings/acme/x12_204.yaml", 14, 7), hint="did you mean 'parcel.weight'?"),
         ("mappings/acme/x12_204.yaml:14:7: error: unknown canonical field 'parcel.weigth' "
          "(did you mean 'parcel.weight'?)")),
        (ParseError("N4-03 postal code", location=Location("in/acme.edi", 12, 3), expected="5 or 9 digits",
                    found="'1234'"),
         "in/acme.edi:12:3: error: N4-03 postal code: expected 5 or 9 digits, found '1234'"),
        (RegistryError("no connector 'inpsot'; installed: csv, inpost, boxnow", hint="did you mean 'inpost'?"),
         "error: no connector 'inpsot'; installed: csv, inpost, boxnow (did you mean 'inpost'?)"),
        # partial forms
        (MappingError("m", found="x"), "error: m: found x"),
        (MappingError("m", expected="x"), "error: m: expected x"),
        (MappingError("m", expected="x", found="y", hint="h"), "error: m: expected x, found y (h)"),
        (MappingError("m"), "error: m"),
    ],
)
def test_render(error: LockerhubError, text: str) -> None:
    assert str(error) == text


def test_str_follows_later_edits() -> None:
    error = ValidationError("m", expected="x")
    error.location = Location("f.csv", 2, 1)
    assert str(error) == "f.csv:2:1: error: m: expected x"


def test_hierarchy() -> None:
    for cls in (ValidationError, ConfigError, ParseError, MappingError, TransitionError, RegistryError, VendorError):
        assert issubclass(cls, LockerhubError)
    assert issubclass(AuthError, VendorError) and issubclass(AuthError, ConfigError)
    assert issubclass(TransientError, VendorError)
    assert not issubclass(ValidationError, ValueError)  # callers catching ValueError do not swallow user errors


def test_transient_error_keeps_retry_after() -> None:
    error = TransientError("429 from vendor", retry_after=2.5, expected="2xx", found="429")
    assert (error.retry_after, str(error)) == (2.5, "error: 429 from vendor: expected 2xx, found 429")


def _at(file: str | None, line: int | None, column: int | None, message: str) -> LockerhubError:
    return ValidationError(message, location=Location(file, line, column) if file or line else None)


def test_error_group_sorts_by_file_line_column() -> None:
    errors = [
        _at("b.yaml", 1, 1, "b1"),
        _at("a.yaml", 10, 2, "a10-2"),
        _at("a.yaml", 2, 9, "a2-9"),
        _at("a.yaml", 10, 1, "a10-1"),
        _at("a.yaml", 2, None, "a2"),
        _at(None, None, None, "nowhere"),
    ]
    group = ErrorGroup(errors)
    assert [e.message for e in group.errors] == ["nowhere", "a2", "a2-9", "a10-1", "a10-2", "b1"]
    assert str(group).splitlines() == [
        "error: nowhere",
        "a.yaml:2: error: a2",
        "a.yaml:2:9: error: a2-9",
        "a.yaml:10:1: error: a10-1",
        "a.yaml:10:2: error: a10-2",
        "b.yaml:1:1: error: b1",
    ]
    assert group.message == "6 error(s)"
    assert errors_sorted(errors) == group.errors


def test_error_group_sort_is_stable() -> None:
    first, second = _at("a", 1, 1, "first"), _at("a", 1, 1, "second")
    assert ErrorGroup([first, second]).errors == [first, second]


def test_a_single_error_survives_pickling() -> None:
    error = ValidationError("m", location=Location("f.yaml", 2, 3), expected="x", found="y")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.location) == (ValidationError, str(error), error.location)


def test_error_group_survives_pickling() -> None:
    group = ErrorGroup([_at("a.yaml", 2, 1, "x"), _at("a.yaml", 1, 1, "y")])
    assert str(pickle.loads(pickle.dumps(group))) == str(group)
