"""The trial database: ``trials.sqlite`` in the run folder (:class:`TrialStore`, on ``sqlite3``)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..findings import Finding
from ..run import folder as runfolder
from ..run.files import TRIALS, FormatError
from .config import Config
from .trial import Trial

DATABASE = "trials.sqlite"
_open: set[Path] = set()  # the folders whose store is open in this process

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY, number INTEGER NOT NULL, round INTEGER NOT NULL,
    config TEXT NOT NULL, seed INTEGER NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL,
    change TEXT NOT NULL, parent TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    attempts INTEGER NOT NULL, train_error REAL, dev_error REAL, dev_cost REAL,
    n_train INTEGER, epochs_run INTEGER, best_epoch INTEGER, stop_reason TEXT, history TEXT,
    diagnosis TEXT, error TEXT, worker TEXT, seconds REAL, started_at REAL, finished_at REAL,
    weights BLOB, dtype TEXT, sample TEXT
);
CREATE TABLE IF NOT EXISTS rounds (
    number INTEGER PRIMARY KEY, diagnosis TEXT, action TEXT NOT NULL, reason TEXT NOT NULL,
    trial_keys TEXT NOT NULL, best_key TEXT, recommendation TEXT, skipped TEXT NOT NULL
);
"""

# Columns a finished trial fills in (the UPDATE's order), a round's, and those holding JSON.
RESULT_COLUMNS = ("status", "attempts", "train_error", "dev_error", "train_dev_error",
                  "dev_cost", "n_train",
                  "epochs_run", "best_epoch", "stop_reason", "history", "diagnosis", "error",
                  "worker", "seconds", "finished_at", "weights", "dtype")
ROUND_COLUMNS = ("number", "diagnosis", "action", "reason", "trial_keys", "best_key",
                 "recommendation", "skipped")
JSON_COLUMNS = ("config", "history", "diagnosis", "trial_keys", "skipped", "recommendation",
                "sample")
# trials' columns newer than the first databases
ADDED_COLUMNS = {"sample": "TEXT", "train_dev_error": "REAL"}
TRIAL_FIELDS = {f.name for f in fields(Trial)} - {"diagnosis"}  # recomputed, not read back


class TrialStore:
    """The run folder's ``trials.sqlite`` (``folder=None``: in memory, for a run that need
    not survive its process). Use as a context manager, or call :meth:`close`.

    Tables ``settings`` (``name → JSON``: what the run was started with, so a resume can
    refuse another run), ``trials`` and ``rounds`` (:data:`SCHEMA`), in WAL mode. A trial's
    row is written when it starts and completed in one transaction when it finishes, so a
    kill -9 leaves every finished trial whole and the others ``running``, to train again on
    resume. The folder's lock keeps other processes out; within one process a folder's
    store is open at most once.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder, self.path = folder, None if folder is None else folder / DATABASE
        self._locked: Path | None = None  # the folder (resolved) whose lock this store holds
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            key = folder.resolve()
            if key in _open:
                raise RuntimeError(f"tune: another run is using {folder} in this process (its "
                                   f"{DATABASE} is open). help: close that TrialStore first.")
            runfolder.hold(folder, "tune")
            _open.add(key)
            self._locked = key
        try:
            self.connection = sqlite3.connect(self.path or ":memory:", timeout=30)
            if self.path is not None:
                self.connection.execute("PRAGMA journal_mode=WAL")
                self.connection.execute("PRAGMA synchronous=FULL")
            self.connection.row_factory = sqlite3.Row
            with self.connection:
                self.connection.executescript(SCHEMA)
                _add_columns(self.connection)
            recorded = self.settings()
            if recorded:  # the format_version of an existing database
                TRIALS.check(recorded, f"tune: {self.path}")
            else:
                self.write_settings(TRIALS.stamp({}))
        except sqlite3.DatabaseError as error:
            self.close()
            raise runfolder.RunFolderError(
                f"tune: {self.path} is not a readable trial database ({error}). help: "
                "start a new tune in another folder.") from None
        except FormatError as error:
            self.close()
            raise runfolder.RunFolderError(str(error)) from None

    def settings(self) -> dict[str, Any]:
        """Every setting, JSON-decoded (empty for a new database)."""
        rows = self.connection.execute("SELECT name, value FROM settings").fetchall()
        return {row["name"]: json.loads(row["value"]) for row in rows}

    def write_settings(self, values: dict[str, Any]) -> None:
        with self.connection:
            self.connection.executemany("INSERT OR REPLACE INTO settings (name, value) VALUES "
                                        "(?, ?)", [(k, json.dumps(v)) for k, v in values.items()])

    def count(self, *statuses: str) -> int:
        """How many trials are stored (only those with one of ``statuses`` when given)."""
        query = "SELECT COUNT(*) FROM trials"
        if statuses:
            query += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        return int(self.connection.execute(query, statuses).fetchone()[0])

    def trials(self) -> dict[str, Trial]:
        """Every stored trial by key, in the order they were first started."""
        rows = self.connection.execute("SELECT * FROM trials ORDER BY number").fetchall()
        return {row["key"]: _trial(row) for row in rows}

    def started(self, trial: Trial) -> None:
        """Record that ``trial`` is running (a new row, or a retried/resumed one)."""
        with self.connection:
            self.connection.execute(
                "INSERT INTO trials (key, number, round, config, seed, action, reason, change, "
                "parent, status, attempts, started_at, sample) VALUES (?, (SELECT COUNT(*) "
                "FROM trials), ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?) ON CONFLICT(key) DO "
                "UPDATE SET status = 'running', attempts = excluded.attempts, "
                "started_at = excluded.started_at",
                (trial.key, trial.round, json.dumps(trial.config.to_dict()), trial.seed,
                 trial.action, trial.reason, trial.change, trial.parent, trial.attempts,
                 time.time(), _column("sample", trial.sample)))

    def finished(self, trial: Trial) -> None:
        """Write a finished (``done`` or ``failed``) trial: one transaction."""
        trial.finished_at = time.time()
        assignments = ", ".join(f"{name} = ?" for name in RESULT_COLUMNS)
        with self.connection:
            self.connection.execute(
                f"UPDATE trials SET {assignments} WHERE key = ?",
                [_column(name, getattr(trial, name)) for name in RESULT_COLUMNS] + [trial.key])

    def save_round(self, record: dict[str, Any]) -> None:
        """Insert or replace one round (:data:`ROUND_COLUMNS`; ``diagnosis`` a dict or None)."""
        with self.connection:
            self.connection.execute(
                f"INSERT OR REPLACE INTO rounds ({', '.join(ROUND_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(ROUND_COLUMNS))})",
                [_column(name, record[name]) for name in ROUND_COLUMNS])

    def rounds(self) -> list[dict[str, Any]]:
        rows = self.connection.execute("SELECT * FROM rounds ORDER BY number").fetchall()
        return [_decoded(row) for row in rows]

    def close(self) -> None:
        connection = getattr(self, "connection", None)  # None: the database never opened
        if connection is not None:
            connection.close()
        if self._locked is not None:
            _open.discard(self._locked)
            runfolder.release(self._locked)
            self._locked = None

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _add_columns(connection: sqlite3.Connection) -> None:
    """Add :data:`ADDED_COLUMNS` to a database made before them (their value: NULL)."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(trials)")}
    for name, kind in ADDED_COLUMNS.items():
        if name not in present:
            connection.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")


def _column(name: str, value: Any) -> Any:
    """``value`` as its column stores it: JSON text for :data:`JSON_COLUMNS`."""
    if name not in JSON_COLUMNS:
        return value
    return json.dumps(value.to_dict() if hasattr(value, "to_dict") else value)


def _decoded(row: sqlite3.Row) -> dict[str, Any]:
    """A row by column name, its JSON columns parsed (NULL stays None)."""
    return {name: _json(name, row[name]) if name in JSON_COLUMNS and row[name] is not None
            else row[name] for name in row.keys()}


def _json(name: str, text: str) -> Any:
    """A JSON column's value (a round's recommendation from before findings were codes: its
    sentence)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if name != "recommendation":
            raise
        return text


def _trial(row: sqlite3.Row) -> Trial:
    """A :class:`Trial` from its row, without the diagnosis (a NULL: the field's default)."""
    values = {name: value for name, value in _decoded(row).items()
              if name in TRIAL_FIELDS and value is not None}
    if "sample" in values:
        values["sample"] = Finding(values["sample"]["code"], values["sample"]["values"])
    return Trial(**{**values, "config": Config.from_dict(values["config"])})
