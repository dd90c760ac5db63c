"""Inbox folders for file-drop TMS connectors (CSV, X12, EDIFACT): which files are ready, where processed ones go,
the folder checks ``check()`` reports, and atomic writes of outbound files. One place, so every file connector behaves the same.

Capabilities:
    ``pending_files(inbox, glob, env=...)`` lists files matching ``glob`` directly in ``inbox``, by name, skipping
    names that mark a file still being written (starting with ``.``, ending ``.part`` or ``.tmp``).
    ``archive_file(path, folder)`` moves a processed file into ``folder`` (``inbox/done`` or ``inbox/failed``),
    adding ``.1``, ``.2``... before the suffix rather than overwriting. ``readable_dir`` / ``writable_dir`` say
    whether a folder is usable, as ``(ok, message)`` for :class:`~lockerhub.plugins.protocols.CheckResult`.
    ``flat_glob`` validates a ``file_glob`` config value (a name pattern, no folders).

Limits/Pitfalls:
    - A TMS that writes in place under the final name can still be read half written; ask the partner to upload
      under a temporary name and rename.
    - ``archive_file`` checks for a free name and then uses ``os.replace``; two processes archiving the same name at
      the same moment can overwrite each other. Run one inbox watcher per inbox.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from lockerhub.errors import ConfigError, Location

PARTIAL_SUFFIXES = (".part", ".tmp")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def batch_file_name(prefix: str, partner: str, first: int, last: int, suffix: str) -> str:
    """``<prefix>_<partner>_<first:08d>-<last:08d><suffix>``: an outbound file named by the outbox sequence numbers
    it carries, so writing the same batch again replaces the file instead of adding one. Characters of the partner
    id other than letters, digits, ``-`` and ``_`` become ``-``."""
    safe = _UNSAFE.sub("-", partner).strip("-") or "partner"
    return f"{prefix}_{safe}_{first:08d}-{last:08d}{suffix}"


def partial(name: str) -> bool:
    """True for names uploaders use while a file is still being written."""
    return name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES)


def flat_glob(value: str) -> str:
    """A ``file_glob`` config value: a file name pattern without folders (for a pydantic validator)."""
    if not value or "/" in value or "\\" in value or "**" in value:
        raise ValueError(f"expected a file name pattern without folders, found {value!r}")
    return value


def pending_files(inbox: Path, glob: str, *, env: str) -> list[Path]:
    """Files matching ``glob`` directly in ``inbox``, by name, skipping partially written ones. A missing inbox is
    a :class:`~lockerhub.errors.ConfigError` naming ``env`` (the variable that sets it)."""
    if not inbox.is_dir():
        raise ConfigError("inbox is not a folder", location=Location(path="inbox"), expected="an existing folder",
                          found=str(inbox), hint=f"set {env} or the 'inbox' config key")
    return sorted((p for p in inbox.glob(glob) if p.is_file() and not partial(p.name)), key=lambda p: p.name)


def archive_file(path: Path, folder: Path) -> Path:
    """Move ``path`` into ``folder`` (created when missing); a numeric suffix avoids overwriting."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    os.replace(path, target)
    return target


def _hint(env: str, key: str) -> str:
    return f"set {env} or the '{key}' config key"


def readable_dir(folder: Path, key: str, env: str) -> tuple[bool, str]:
    """An inbox: exists, is a folder, can be listed, and is writable (processed files move to done/ and failed/)."""
    if not folder.exists():
        return False, f"{key} {folder} does not exist ({_hint(env, key)})"
    if not folder.is_dir():
        return False, f"{key} {folder} is not a folder ({_hint(env, key)})"
    try:
        with os.scandir(folder) as entries:
            next(entries, None)
    except OSError as exc:
        return False, f"{key} {folder} cannot be listed: {exc.strerror or type(exc).__name__}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return False, f"{key} {folder} is readable but not writable (processed files move to {key}/done, {key}/failed)"
    return True, f"{key} {folder} is readable"


def writable_dir(folder: Path, key: str, env: str) -> tuple[bool, str]:
    """An outbox: writable, or creatable under its nearest existing parent."""
    if folder.exists():
        if not folder.is_dir():
            return False, f"{key} {folder} is not a folder ({_hint(env, key)})"
        if not os.access(folder, os.W_OK | os.X_OK):
            return False, f"{key} {folder} is not writable"
        return True, f"{key} {folder} is writable"
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return False, f"{key} {folder} does not exist and cannot be created under {parent}"
    return True, f"{key} {folder} does not exist yet; it will be created under {parent}"


def write_atomically(path: Path, content: bytes) -> Path:
    """Temp file in the same folder, fsync, ``os.replace``; the folder is fsynced where the OS allows it."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open folders (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse fsync on folders
        pass
    finally:
        os.close(fd)
