"""``datetime``: a date/time in a partner's layout, as ISO 8601 with its UTC offset.

``{op: datetime, of: pickup_at, format: "%Y%m%d%H%M", tz: Europe/Warsaw}`` turns ``202603011430`` into
``2026-03-01T14:30:00+01:00``. ``tz`` is the zone of times written without an offset; a time that carries one
keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from lockerhub.errors import ValidationError
from lockerhub.mapping.ops import register
from lockerhub.mapping.ops._base import Env, Fn, Op
from lockerhub.mapping.ops._values import as_text, shown

if TYPE_CHECKING:
    from lockerhub.mapping.ops import Expr

_SAMPLE = datetime(2026, 3, 1, 14, 30, 5, tzinfo=UTC)


@register
class DateTimeOp(Op):
    """Parse a date/time (``iso`` or a strptime pattern) and give it as ISO 8601 with an offset."""

    name = "datetime"
    op: Literal["datetime"] = "datetime"
    of: Expr = Field(description="the date/time text")
    format: str = Field(default="iso", description="`iso` (ISO 8601) or a strptime pattern such as %Y%m%d%H%M")
    tz: str | None = Field(default=None, description="IANA zone of times without an offset, e.g. Europe/Warsaw; "
                                                     "required unless every input carries an offset")
    output: Literal["iso"] = Field(default="iso", description="`iso`: ISO 8601 with the UTC offset")

    def _zone(self) -> tzinfo | None:
        if self.format != "iso":
            if "%" not in self.format:
                raise ValueError(f"expected `iso` or a strptime pattern such as %Y%m%d%H%M, found {self.format!r}")
            try:
                datetime.strptime(_SAMPLE.strftime(self.format), self.format)
            except ValueError as exc:
                raise ValueError(f"invalid strptime pattern {self.format!r}: {exc}") from None
            if self.tz is None and "%z" not in self.format:
                raise ValueError("`tz` is required: the pattern has no %z offset")
        if self.tz is None:
            return None
        try:
            return ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.tz!r}: expected an IANA name such as Europe/Warsaw") from None

    def _parse(self, value: Any, zone: tzinfo | None) -> str:
        if isinstance(value, datetime):
            moment = value
        else:
            text = as_text(value, self.describe()).strip()
            try:
                moment = datetime.fromisoformat(text) if self.format == "iso" else datetime.strptime(text, self.format)
            except ValueError:
                like = "2026-03-01T14:30:00+01:00" if self.format == "iso" else self.format
                raise ValidationError(self.describe(), expected=f"a date/time like {like}",
                                      found=shown(value)) from None
        if moment.tzinfo is None:
            if zone is None:
                raise ValidationError(self.describe(), expected="a date/time with a UTC offset (or set `tz`)",
                                      found=shown(value))
            moment = moment.replace(tzinfo=zone)
        return moment.isoformat()

    def build(self, env: Env) -> Fn:
        zone, parse, of = self._zone(), self._parse, self.of.compile(env)
        return lambda item: None if (value := of(item)) is None else parse(value, zone)

    def evaluate(self, item: Any, env: Env) -> Any:
        value = self.of.run(item, env)
        return None if value is None else self._parse(value, self._zone())

    def describe(self) -> str:
        return f"datetime {self.format}" + (f" {self.tz}" if self.tz else "")
