"""Masking: one place that keeps secrets and personal data out of log output.

What is redacted (replaced by ``***``):

- registered secrets, verbatim: API keys, tokens, passwords and the PII key ring. :func:`register_from_env` takes
  every ``LOCKERHUB_*`` variable whose name ends in ``KEY``, ``KEYS``, ``TOKEN``, ``SECRET`` or ``PASSWORD``, and the
  password of any ``LOCKERHUB_*_URL``; code that learns a secret later calls :func:`register_secret`. Values shorter
  than 6 characters are not registered (they would mask ordinary words).
- registered personal data, verbatim (:func:`register_pii`), for values no pattern can recognise, such as names;
- e-mail addresses; international phone numbers (``+48 600 000 001``, ``0048600000001``) and grouped national ones
  (``600-000-001``);
- values after a sensitive key: ``access_code=...``, ``"api_key": "..."``, ``token: ...``, ``password=...``,
  ``Authorization: Bearer ...``, ``X-API-Key: ...``, and after a personal-data field of the canonical model
  (``"name": "..."``, ``phone=...``, ``recipient_email: ...``, ``"street": "..."``), and the text of XML elements
  with those names (``<ns0:name>...</ns0:name>``, ``<wsse:Password Type="...">...``);
- passwords in URLs (``postgresql://user:***@host/db``).

How it is applied: :func:`install` (the CLI calls it at start) wraps the logging record factory, so every record
made by any logger, including libraries with handlers of their own (uvicorn), is redacted when it is created:
message, arguments and exception text. It also gives the root logger a stderr handler (and, with
``LOCKERHUB_LOG_FILE``, a file handler) whose :class:`MaskingFormatter` redacts the final line again.
``LOCKERHUB_LOG_LEVEL`` (``DEBUG``, ``INFO``, ...) sets the root level; unset, the level is left alone.

Airflow tasks: call :func:`install` with ``handlers=False`` (Airflow owns the handlers; the record factory still
redacts every record), and :func:`protect` adds a :class:`MaskingFilter` to given handlers or loggers.

Limits/Pitfalls:
    - Patterns catch the usual forms, not every way of writing a phone number: a bare 9-digit number is not masked
      (it could as well be a parcel id). Code must still not log PII; masking is the second line.
    - Only logging is covered. ``print`` and rich console output are the command's own output and must hold no
      secrets by construction.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MASK = "***"
LEVEL_ENV = "LOCKERHUB_LOG_LEVEL"
FILE_ENV = "LOCKERHUB_LOG_FILE"
MIN_SECRET = 6
_SECRET_SUFFIXES = ("KEY", "KEYS", "TOKEN", "SECRET", "PASSWORD")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_PHONE_INTL = r"(?<![\w+])(?:\+|00)[1-9]\d(?:[ .-]?\d){6,13}(?![\w])"
_PHONE_GROUPED = r"(?<![\w-])\d{3}[ -]\d{3}[ -]\d{3}(?![\w-])"
# personal-data fields of the canonical model (Party, Address: a test keeps this in step), bare or as recipient_*
PII_KEYS = ("name", "phone", "email", "street")
_KEYS = (r"access[_-]?code|pickup[_-]?code|(?:consignee[_-]?)?collection[_-]?code|pin|otp|api[_-]?key|x-api-key|apikey|token|access[_-]?token|secret|client[_-]?secret|"
         r"password|passwd|pwd|pii[_-]?keys|(?:recipient[_-]?)?(?:" + "|".join(PII_KEYS) + ")")
# key, separator (with optional quotes), then the value: quoted, or up to a delimiter
_KEY_VALUE = re.compile(
    rf"""(?ix)(?P<key>["']?\b(?:{_KEYS})\b["']?\s*[:=]\s*)(?P<q>["'])?(?P<value>(?(q)[^"'\n]*|[^\s,;&{{}}\[\])]+))""")
# the text of an XML element with such a local name (SOAP bodies: <ns0:name>, <tms:Name>, <wsse:Password Type=..>)
_XML_ELEMENT = re.compile(rf"(?i)(?P<open><(?:[\w.-]+:)?(?:{_KEYS})(?:\s[^<>]*)?>)(?P<value>[^<]+)")
# a bare "code" holding digits only is a locker access code (GLS nests it: consigneeCollectionCode: {code: ...});
# status codes (letters) stay readable
_NUMERIC_CODE = re.compile(r"""(?i)(?P<key>["']?\bcode\b["']?\s*[:=]\s*)(?P<q>["'])?(?P<value>\d{4,12})\b""")
_BEARER = re.compile(r"(?i)\b(authorization\s*[:=]\s*[\"']?)?(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}")
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)(?P<pw>[^\s@/]+)(?=@)", re.IGNORECASE)
_PATTERNS = re.compile(f"{_EMAIL}|{_PHONE_INTL}|{_PHONE_GROUPED}")


class Masker:
    """Redacts registered values and known patterns from text. Thread-safe to register and use."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._literal: re.Pattern[str] | None = None

    def register(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET:
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                self._literal = None

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._literal = None

    def _literals(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._literal is None and self._values:
                ordered = sorted(self._values, key=len, reverse=True)  # longest first: no half-masked overlaps
                self._literal = re.compile("|".join(re.escape(v) for v in ordered))
            return self._literal

    def redact(self, text: str) -> str:
        literal = self._literals()
        if literal is not None:
            text = literal.sub(MASK, text)
        text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
        text = _BEARER.sub(lambda m: (m[1] or "") + m[2] + " " + MASK, text)
        text = _NUMERIC_CODE.sub(lambda m: m["key"] + (m["q"] or "") + MASK, text)
        text = _KEY_VALUE.sub(lambda m: m["key"] + (m["q"] or "") + (MASK if m["value"] else ""), text)
        text = _XML_ELEMENT.sub(lambda m: m["open"] + MASK, text)
        return _PATTERNS.sub(MASK, text)


masker = Masker()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in log output from now on."""
    masker.register(value)


def register_key_ring(value: str | None) -> None:
    """Mask a key ring (``kid:base64key,...``): the whole value and each key on its own."""
    masker.register(value)
    for entry in (value or "").replace("\n", ",").split(","):
        masker.register(entry.partition(":")[2].strip())


def register_pii(value: str | None) -> None:
    """Mask a personal value no pattern recognises (a name, a street) in log output from now on."""
    masker.register(value)


def register_from_env(environ: dict[str, str] | None = None) -> None:
    """Register the secrets held in ``LOCKERHUB_*`` environment variables (see the module docstring)."""
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if not name.startswith("LOCKERHUB_") or not value:
            continue
        if name.endswith("KEYS"):
            register_key_ring(value)
        elif name.endswith(_SECRET_SUFFIXES):
            register_secret(value)
        elif name.endswith("_URL"):
            try:
                password = urlsplit(value).password
            except ValueError:
                password = None
            register_secret(password)


def redact(text: str) -> str:
    return masker.redact(text)


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if getattr(record, "_lockerhub_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string; logging must not raise where it is called
        message = f"{record.msg} {record.args}"
    record.msg, record.args = masker.redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = masker.redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = masker.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = masker.redact(record.stack_info)
    record._lockerhub_masked = True  # type: ignore[attr-defined]
    return record


class MaskingFilter(logging.Filter):
    """Redacts a record in place (message, arguments, exception and stack text); never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then redacts the whole line (covers fields a format string adds)."""

    def format(self, record: logging.LogRecord) -> str:
        return masker.redact(super().format(record))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current ``sys.stderr`` (which tests and click may swap), not the one at install time."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_installed: dict[str, Any] = {}


def _factory_wrapper(previous: Any) -> Any:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redact_record(previous(*args, **kwargs))

    make._lockerhub = True  # type: ignore[attr-defined]
    return make


def install(*, level: str | int | None = None, log_file: str | Path | None = None, handlers: bool = True) -> None:
    """Redact every log record of this process; see the module docstring. Safe to call more than once."""
    register_from_env()
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_lockerhub", False):
        _installed["factory"] = factory
        logging.setLogRecordFactory(_factory_wrapper(factory))
    root = logging.getLogger()
    level = level if level is not None else os.environ.get(LEVEL_ENV) or None
    if level is not None:
        try:
            root.setLevel(level.upper() if isinstance(level, str) else level)
        except ValueError:
            from lockerhub.errors import ConfigError

            raise ConfigError(LEVEL_ENV, expected="DEBUG, INFO, WARNING, ERROR or CRITICAL",
                              found=repr(level)) from None
    if not handlers:
        return
    for handler in _installed.pop("handlers", []):
        root.removeHandler(handler)
        handler.close()
    made: list[logging.Handler] = [_Stderr()]
    log_file = log_file if log_file is not None else os.environ.get(FILE_ENV) or None
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        made.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in made:
        handler.setFormatter(MaskingFormatter(_FORMAT))
        handler.addFilter(MaskingFilter())
        root.addHandler(handler)
    _installed["handlers"] = made


def uninstall() -> None:
    """Undo :func:`install` (tests)."""
    root = logging.getLogger()
    for handler in _installed.pop("handlers", []):
        root.removeHandler(handler)
        handler.close()
    if "factory" in _installed:
        logging.setLogRecordFactory(_installed.pop("factory"))


def protect(*targets: logging.Handler | logging.Logger | str) -> None:
    """Add a :class:`MaskingFilter` to handlers, or to every handler of the given loggers (names or objects)."""
    for target in targets:
        handlers: Iterable[logging.Handler]
        if isinstance(target, logging.Handler):
            handlers = [target]
        else:
            handlers = (logging.getLogger(target) if isinstance(target, str) else target).handlers
        for handler in handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())


__all__ = ["MASK", "Masker", "MaskingFilter", "MaskingFormatter", "install", "masker", "protect", "redact",
           "register_from_env", "register_key_ring", "register_pii", "register_secret", "uninstall"]
