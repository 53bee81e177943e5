"""What every command shares: exit codes, the parser, the consoles, errors as one line, and
SIGTERM as an interruption.

Exit codes: 0 success; 1 a failed check (a gradient check, a diverged run); 2 a usage or
input error, with a one-line message on stderr; 130 (Ctrl-C) or 143 (SIGTERM) a run
interrupted after writing its checkpoint. Tracebacks only for bugs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any, NoReturn

from rich.console import Console

from .. import runconfig
from ..model import Sequential

EXIT_OK, EXIT_FAILED_CHECK, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, the shell's code for Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143

# what reaches a user as one line (exit code 2); any other exception is a bug: a traceback
INPUT_ERRORS = (ValueError, TypeError, OSError, MemoryError)


def message(error: Exception) -> str:
    """``error`` as one line for people: the operating system's errors as ``path: reason``
    (``runs/x: Permission denied``, not ``[Errno 13] …``); text that no reader decoded
    without the codec's wording (a reader that knows its file raises an error naming it)."""
    if isinstance(error, OSError) and error.strerror:
        paths = [str(path) for path in (error.filename, error.filename2) if path is not None]
        return ": ".join([*paths, error.strerror])
    if isinstance(error, UnicodeDecodeError):
        return f"an input file is not {error.encoding.upper()} text"
    if isinstance(error, MemoryError):  # a network or data set too large for this machine
        return (f"not enough memory ({error or 'an allocation failed'}). help: a smaller "
                "network (--hidden) or less data.")
    keys, source = getattr(error, "keys", ()), getattr(error, "source", None)
    if keys and source in (None, runconfig.COMMAND_LINE):  # the library names option keys
        named = "|".join(keys)
        return re.sub(rf"(?<![\w'.-])({named})(?=[=:]| must| applies| needs)",
                      lambda match: flag(match[1]), str(error))
    return str(error)


def flag(key: str) -> str:
    """The command line's flag for an option key: ``batch_size`` → ``--batch-size``."""
    return "--" + key.replace("_", "-")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2) that name the command and the fix."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}. help: {self.prog} --help\n")


class ReaderFreeConsole(Console):
    """A console whose reader may go away (``deeprecipe run | head``): it goes quiet and
    the command carries on (rich's default exits with status 1, which means a failed check
    here, and stopped a run with its folder half written)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        silence(self.file)


def silence(stream: IO[str]) -> None:
    """Send what is left for ``stream`` (whose reader went away) to the null device."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def write_stdout(text: str) -> None:
    """``text`` on stdout; a reader gone away silences stdout as the console does."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        silence(sys.stdout)
    except OSError as error:  # a full disk: named, and what is left goes nowhere
        silence(sys.stdout)
        raise OSError(error.errno, error.strerror, "standard output") from None


def stderr_console() -> Console:
    """Plain lines on stderr: no markup (messages may hold brackets), no wrapping."""
    return ReaderFreeConsole(stderr=True, soft_wrap=True, highlight=False, markup=False)


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as an interruption so the run writes its checkpoint."""


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def raise_terminated(signum: int, frame: Any) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def task_of(model: Sequential) -> str:
    """What a data file's target must be read as to score ``model``."""
    return "regression" if model.loss.task == "regression" else "classification"
