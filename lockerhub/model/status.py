"""Canonical parcel statuses (UPPER_SNAKE). The rules between them live in ``lifecycle.yaml``."""

from __future__ import annotations

from enum import StrEnum


class ParcelStatus(StrEnum):
    CREATED = "CREATED"
    BOOKED = "BOOKED"
    LABELLED = "LABELLED"
    HANDED_OVER = "HANDED_OVER"
    IN_TRANSIT = "IN_TRANSIT"
    REDIRECTED = "REDIRECTED"
    DEPOSITED = "DEPOSITED"
    REMINDER_SENT = "REMINDER_SENT"
    PICKUP_EXPIRED = "PICKUP_EXPIRED"
    RETURNING = "RETURNING"
    COLLECTED = "COLLECTED"
    RETURNED = "RETURNED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXCEPTION = "EXCEPTION"
