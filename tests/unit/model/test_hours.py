"""Opening hours: the OSM-style subset vendors publish, read per weekday and minute."""

from __future__ import annotations

from datetime import datetime

import pytest

from lockerhub.model import Locker
from lockerhub.model.hours import parse_hours

MON_9, SAT_13, SAT_15, SUN_9 = (datetime(2026, 11, d, h) for d, h in ((23, 9), (28, 13), (28, 15), (29, 9)))


def test_rules_days_and_ranges() -> None:
    hours = parse_hours("Mo-Fr 08:00-20:00; Sa 09:00-14:00")
    assert [hours.is_open(t) for t in (MON_9, SAT_13, SAT_15, SUN_9)] == [True, True, False, False]
    assert all(parse_hours("24/7").is_open(t) for t in (MON_9, SUN_9))
    split = parse_hours("Su,Mo 06:00-10:00,18:00-24:00")
    assert split.is_open(SUN_9) and split.is_open(datetime(2026, 11, 23, 23, 59)) and not split.is_open(SAT_13)
    assert parse_hours("Sa-Mo 10:00-11:00").is_open(datetime(2026, 11, 29, 10, 30))  # a range over the weekend


@pytest.mark.parametrize(("text", "said"), [
    ("daily 8-20", "days 'daily'"),
    ("Mo-Fr 8-20", "time range '8-20'"),
    ("Mo 20:00-08:00", "starts before it ends"),
    ("", "expected 24/7"),
])
def test_bad_hours_say_what_was_expected(text: str, said: str) -> None:
    with pytest.raises(ValueError) as bad:
        parse_hours(text)
    assert said in str(bad.value)


def test_a_locker_without_hours_is_always_open() -> None:
    assert Locker(locker_id="L1").is_open(SUN_9)
    assert not Locker(locker_id="L2", opening_hours="Mo-Fr 08:00-20:00").is_open(SUN_9)
