"""Publisher-confirm bookkeeping: the broker may confirm one by one, many at once, and out of order."""

from __future__ import annotations

from lockerhub.bus.relay import Confirms


def _confirms(sent: int) -> Confirms:
    c = Confirms.__new__(Confirms)  # the bookkeeping only: no channel
    c.sent, c.floor, c.singles, c.nacked = sent, 0, set(), False
    return c


def test_singles_out_of_order_then_a_multiple_ack() -> None:
    c = _confirms(6)
    for tag in (2, 5, 1):
        c._ack(tag, False)
    assert c.acked == 3
    c._ack(4, True)  # 1..4 confirmed: 2 and 1 were counted already, 3 and 4 are new
    assert (c.floor, c.singles, c.acked) == (4, {5}, 5)
    c._ack(6, False)
    assert c.acked == c.sent


def test_a_single_ack_below_the_floor_is_not_counted_twice() -> None:
    c = _confirms(3)
    c._ack(3, True)
    c._ack(2, False)
    assert c.acked == 3
