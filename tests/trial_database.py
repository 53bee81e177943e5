"""Reading a tune's ``trials.sqlite`` from the test process, as another program would,
while the tune may still be creating it; stopping a tune run as a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on a run's database, opened read-only (never creates the file)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        return db.execute(sql).fetchall()


def finished_trials(database: Path) -> dict[str, float]:
    """``{key: finished_at}`` of the done trials; empty while the database is being made."""
    try:
        return dict(query(database, "SELECT key, finished_at FROM trials WHERE status = 'done'"))
    except sqlite3.OperationalError:  # no file, or the schema is not written yet
        return {}


def stop_group(process: subprocess.Popen[str]) -> str:
    """Kill ``process``'s whole group (a tune, its forkserver, its workers: they hold the
    output pipes too) and return its stderr; never waits forever. The process must have
    been started with ``start_new_session=True``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        return "(no output: the pipes stayed open)"
    return err
