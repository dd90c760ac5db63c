"""One error root for everything a user can fix.

Every subclass may carry a :class:`Location` (file, line or segment, column or element), what was
``expected`` and what was ``found``, plus an optional ``hint``. ``str(error)`` renders one
compiler-style line: ``file:line:col: error: message: expected X, found Y``.

Messages never contain secrets, access codes or recipient PII: they name fields and positions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value came from. ``line``/``column`` are 1-based; EDI uses segment/element."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    segment: str | None = None
    element: str | None = None
    path: str | None = None  # key path (YAML/JSON) or column name (CSV)

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.segment:
            text += f" ({self.segment}{'-' + self.element if self.element else ''})"
        return text

    def sort_key(self) -> tuple[str, int, int]:
        return (self.file or "", self.line or 0, self.column or 0)


class LockerhubError(Exception):
    """Base of every error a user can act on."""

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        expected: str | None = None,
        found: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.location = location
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message
        if self.expected is not None:
            text += f": expected {self.expected}"
            if self.found is not None:
                text += f", found {self.found}"
        elif self.found is not None:
            text += f": found {self.found}"
        if self.hint:
            text += f" ({self.hint})"
        prefix = f"{self.location}: " if self.location else ""
        return f"{prefix}error: {text}"

    def __str__(self) -> str:  # keep str() in sync if attributes are edited after creation
        return self.render()

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Pickle the attributes, not the rendered text (errors cross process and bus boundaries).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[LockerhubError], state: dict[str, object]) -> LockerhubError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.render())
    return error


class ValidationError(LockerhubError):
    """A value does not satisfy the canonical model or an identifier's rules."""


class ConfigError(LockerhubError):
    """Configuration (YAML, env, connection) is missing or wrong; retrying will not help."""


class ParseError(LockerhubError):
    """An input document could not be read (encoding, structure, syntax)."""


class MappingError(LockerhubError):
    """A source record could not be mapped to the canonical model."""


class TransitionError(LockerhubError):
    """A status change the lifecycle forbids."""


class RegistryError(LockerhubError):
    """A connector plugin is missing, duplicated or does not satisfy its protocol."""


class VendorError(LockerhubError):
    """Base for errors reported by a locker vendor or TMS endpoint."""


class TransientError(VendorError):
    """Worth retrying later: 429, 5xx, timeouts, connection resets."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class CircuitOpenError(TransientError):
    """A circuit breaker refused the call without sending it: the vendor's ``circuit`` (``vendor.operation``)
    failed repeatedly. ``retry_after`` is the time until the breaker lets a probe through, so a caller that
    treats any :class:`TransientError` as "try later" does the right thing (see :mod:`lockerhub.runtime.breaker`)."""

    def __init__(self, circuit: str, *, retry_after: float, **kwargs: object) -> None:
        self.circuit = circuit
        kwargs.setdefault("hint", f"calls resume after a probe in {retry_after:.3g} s succeeds")
        super().__init__(f"circuit {circuit} is open: the call was not sent", retry_after=retry_after, **kwargs)


class AuthError(VendorError, ConfigError):
    """401/403: credentials or permissions are wrong; retrying will not help."""


class ReplayWindowError(AuthError):
    """A signed request (webhook) whose timestamp is outside the replay window: a replay, or a clock that drifted."""


class RejectedError(VendorError):
    """The vendor understood the request and refused it (other 4xx, business rule)."""


class AllocationError(LockerhubError):
    """No locker/compartment can take the parcel."""


class BusinessRejection(LockerhubError):
    """A well-formed shipment the hub refuses (``reason``: a lifecycle REJECTED reason such as ``unknown_locker``)."""

    def __init__(self, reason: str, message: str, **kwargs: object) -> None:
        self.reason = reason
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


def errors_sorted(errors: list[LockerhubError]) -> list[LockerhubError]:
    """Errors ordered by position, as the CLI prints them."""
    return sorted(errors, key=lambda e: e.location.sort_key() if e.location else ("", 0, 0))


class ErrorGroup(LockerhubError):
    """Several errors found in one pass over a file (reported together, sorted by position)."""

    def __init__(self, errors: list[LockerhubError]) -> None:
        self.errors = errors_sorted(errors)
        super().__init__(f"{len(self.errors)} error(s)")

    def render(self) -> str:
        return "\n".join(e.render() for e in getattr(self, "errors", []))
