"""``datetime``: a partner's date/time layout to ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

WARSAW = '{op: datetime, of: at, format: "%Y%m%d%H%M", tz: Europe/Warsaw}'


@pytest.mark.parametrize(
    ("rule", "given", "expected"),
    [
        (WARSAW, "202603011430", "2026-03-01T14:30:00+01:00"),
        (WARSAW, "202607011430", "2026-07-01T14:30:00+02:00"),  # summer time
        (WARSAW, 202603011430, "2026-03-01T14:30:00+01:00"),  # a number is read as its digits
        ('{op: datetime, of: at, format: "%d.%m.%Y %H:%M", tz: UTC}', " 01.03.2026 14:30 ",
         "2026-03-01T14:30:00+00:00"),
        ("{op: datetime, of: at}", "2026-03-01T14:30:00Z", "2026-03-01T14:30:00+00:00"),
        ("{op: datetime, of: at}", "2026-03-01T14:30:00.250+05:30", "2026-03-01T14:30:00.250000+05:30"),
        ("{op: datetime, of: at, tz: Europe/Warsaw}", "2026-03-01 14:30", "2026-03-01T14:30:00+01:00"),
        ("{op: datetime, of: at, tz: Europe/Warsaw}", "2026-03-01T14:30+00:00", "2026-03-01T14:30:00+00:00"),
        ('{op: datetime, of: at, format: "%Y%m%d%H%M%z"}', "202603011430+0200", "2026-03-01T14:30:00+02:00"),
    ],
)
def test_parses(value, rule: str, given: object, expected: str) -> None:
    assert value(rule, {"at": given}) == expected


def test_datetime_objects_pass_through(compiled) -> None:
    mapping = compiled(f"fields:\n  v: {WARSAW}\n")
    moment = datetime(2026, 3, 1, 14, 30, tzinfo=timezone(timedelta(hours=3)))
    assert mapping.map({"at": moment}).data == {"v": "2026-03-01T14:30:00+03:00"}
    assert mapping.map({"at": datetime(2026, 3, 1, 14, 30)}).data == {"v": "2026-03-01T14:30:00+01:00"}


def test_run_time_errors(fails) -> None:
    assert fails(WARSAW, {"at": "2026-03-01"}) == [
        ("<input>: error: field at -> v: expected a date/time like %Y%m%d%H%M, found '2026-03-01' "
         "(rule: datetime %Y%m%d%H%M Europe/Warsaw)")]
    assert fails("{op: datetime, of: at}", {"at": "yesterday"}) == [
        ("<input>: error: field at -> v: expected a date/time like 2026-03-01T14:30:00+01:00, found 'yesterday' "
         "(rule: datetime iso)")]
    assert fails("{op: datetime, of: at}", {"at": "2026-03-01T14:30"}) == [
        ("<input>: error: field at -> v: expected a date/time with a UTC offset (or set `tz`), "
         "found '2026-03-01T14:30' (rule: datetime iso)")]
    assert fails("{op: datetime, of: at}", {"at": {"day": 1}}) == [
        "<input>: error: field at -> v: expected text or a number, found a mapping (rule: datetime iso)"]


def test_none_default_required(value, fails) -> None:
    assert value(WARSAW, {}) is None
    assert value("{op: datetime, of: at, default: '2026-01-01T00:00:00+00:00'}", {}) == "2026-01-01T00:00:00+00:00"
    assert fails("{op: datetime, of: at, required: true}", {}) == [
        "<input>: error: field at -> v: required: expected a value, found none"]


def test_build_errors(problems) -> None:
    assert problems("""
        fields:
          a: {op: datetime, of: at, tz: Europe/Warsow}
          b: {op: datetime, of: at, format: "%Y%m%d"}
          c: {op: datetime, of: at, format: "yyyymmdd", tz: UTC}
          d: {op: datetime, of: at, format: "%Q", tz: UTC}
          e: {op: datetime, of: at, tz: "../etc/passwd"}
    """) == [
        ("m.yaml:5:6: error: fields.a: datetime iso Europe/Warsow: unknown time zone 'Europe/Warsow': "
         "expected an IANA name such as Europe/Warsaw"),
        "m.yaml:6:6: error: fields.b: datetime %Y%m%d: `tz` is required: the pattern has no %z offset",
        ("m.yaml:7:6: error: fields.c: datetime yyyymmdd UTC: "
         "expected `iso` or a strptime pattern such as %Y%m%d%H%M, found 'yyyymmdd'"),
        ("m.yaml:8:6: error: fields.d: datetime %Q UTC: "
         "invalid strptime pattern '%Q': 'Q' is a bad directive in format '%Q'"),
        ("m.yaml:9:6: error: fields.e: datetime iso ../etc/passwd: unknown time zone '../etc/passwd': "
         "expected an IANA name such as Europe/Warsaw"),
    ]


def test_output_is_iso_only(problems) -> None:
    assert problems("""
        fields:
          a: {op: datetime, of: at, output: epoch}
    """) == ["m.yaml:5:37: error: fields.a.output: expected 'iso', found a string"]
