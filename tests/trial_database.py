"""Reading a tune's ``trials.sqlite`` from the test process, as another program would,
while the tune may still be creating it; stopping a tune run as a subprocess; another
process holding a run folder's lock; the processes left in a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
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


# the lock a running run or tune holds (runfolder.hold); never waits for it
HOLD_LOCK = ("import fcntl, sys; lock = open(sys.argv[1], 'a'); "
             "fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB); print('held', flush=True); "
             "sys.stdin.read()")


@contextlib.contextmanager
def held_elsewhere(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds ``folder``'s ``.lock`` until the block ends, as a run or tune
    working in it does (the folder must exist; the process ends with the block)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder / ".lock")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # '' if it could not take the lock and ended
        assert line == "held\n", stop_group(process)
        yield process
    finally:
        stop_group(process)


def living(group: int) -> list[str]:
    """The processes of process group ``group`` that have not ended (zombies, which only
    wait to be reaped, have), as ``"pid command"``; Linux only (reads /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (command) state ppid pgrp ...: the command may hold spaces and parentheses
            text = stat.read_text()
            fields = text[text.rindex(")") + 2:].split()
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(f"{stat.parent.name} {text[text.index('(') + 1:text.rindex(')')]}")
    return found
