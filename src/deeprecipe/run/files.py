"""Every file format deeprecipe writes, in one place: a :class:`Format` stamps a record,
writes it atomically and refuses one of another format or version with the same message for
every file. A leaf module (it imports only ``_checks`` and ``_version``): every layer uses it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._checks import describe
from .._version import __version__


class FormatError(ValueError):
    """A file of another format, or of a ``format_version`` this deeprecipe cannot read."""


@dataclass(frozen=True)
class Format:
    """One file format: its ``format`` entry, the version written and the older ones read;
    ``untagged``: the versions written before files carried a ``format`` entry."""

    name: str
    version: int
    older: tuple[int, ...] = ()
    untagged: tuple[int, ...] = ()

    def stamp(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` after the format's entries (which ``record`` cannot override)."""
        head = {"format": self.name, "format_version": self.version, "library": "deeprecipe",
                "library_version": __version__}
        return {**head, **{key: value for key, value in record.items() if key not in head}}

    def check(self, record: Any, where: str) -> dict[str, Any]:
        """``record`` if this deeprecipe reads it, else :class:`FormatError`; ``where``
        (``"load: <file>"``) starts the message."""
        if not isinstance(record, dict):
            raise FormatError(f"{where} must hold a JSON object (a {self.name} record); "
                              f"received {describe(record)}.")
        version = record.get("format_version")
        tag = record.get("format", self.name if self.untagged else None)
        known = type(version) is int and version in (self.version, *self.older) and (
            "format" in record or version in self.untagged)
        if tag != self.name:
            raise FormatError(f"{where} was not written by {self.name.replace('-', ' ')}: "
                              f"format must be {self.name!r}; received format={describe(tag)}.")
        if not known:
            versions = " and ".join(map(str, sorted((*self.older, self.version))))
            raise FormatError(
                f"{where} has format_version={describe(version)}; this deeprecipe reads "
                f"{self.name} format_version {versions}. help: open it with the deeprecipe "
                f"version that wrote it ({str(record.get('library_version', 'unknown'))[:60]}).")
        return record

    def dumps(self, record: dict[str, Any], **options: Any) -> str:
        """``record``, stamped, as JSON text (``options`` go to ``json.dumps``)."""
        return json.dumps(self.stamp(record), indent=2, **options) + "\n"

    def write(self, path: Path, record: dict[str, Any]) -> Path:
        """Write ``record``, stamped, as JSON to ``path`` (atomically); returns ``path``."""
        text = self.dumps(record, allow_nan=False)
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return path

    def read(self, path: Path, where: str) -> dict[str, Any]:
        """The checked record of the JSON file ``path``; errors start with ``where``."""
        return self.check(read_json(path, where), f"{where}: {path}")


MODEL = Format("deeprecipe-model", 2, older=(1,), untagged=(1, 2))  # 1: before the checksums
RUN = Format("deeprecipe-run", 1)
CHECKPOINT = Format("deeprecipe-checkpoint", 2, older=(1,))  # 1: before the checksum
SUMMARY = Format("deeprecipe-summary", 2, older=(1,), untagged=(1,))  # 2: findings as dicts
TUNE = Format("deeprecipe-tune", 1)
TRIALS = Format("deeprecipe-trials", 1, untagged=(1,))  # the trial database's settings
TUNE_SUMMARY = Format("deeprecipe-tune-summary", 1)  # a tune's summary.json
EXPERIMENT = Format("deeprecipe-experiment", 1)  # an experiment's summary.json


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.
    The file gets the usual permissions (0o666 less the umask): a report is meant to be
    shared."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    mode = tmp.stat().st_mode  # 0o666 less the umask
    try:
        write(tmp)
        os.chmod(tmp, mode)  # writers that replace the file (safetensors) set their own
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_bytes(file: Path, where: str) -> bytes:
    """The bytes of ``file``; a one-line ValueError that starts with ``where`` otherwise."""
    try:
        return file.read_bytes()
    except OSError as error:
        raise ValueError(f"{where}: {file} cannot be read ({error.strerror or error}).") \
            from None


def read_json(file: Path, where: str) -> Any:
    """The parsed JSON of ``file``; one-line errors that start with ``where`` (``"load"``,
    ``"--resume"``) and name the file, in plain words (no codec or errno text)."""
    data = read_bytes(file, where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: {file} is not UTF-8 text (byte {data[error.start]:#04x} at "
                         f"offset {error.start}).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: {file} is not valid JSON ({error}).") from None
    except (ValueError, RecursionError):  # a 5,000-digit number, nesting 10,000 deep
        raise ValueError(f"{where}: {file} is not valid JSON (a number too long or nesting "
                         "too deep).") from None
