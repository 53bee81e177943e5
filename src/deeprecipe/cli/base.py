"""What every command shares: exit codes, the parser, the consoles and the progress drawn on
them, errors as one line, and SIGTERM as an interruption.

Exit codes: 0 success; 1 a failed check (a gradient check, a diverged run); 2 a usage or
input error, with a one-line message on stderr; 130 (Ctrl-C) or 143 (SIGTERM) a run
interrupted after writing its checkpoint. Tracebacks only for bugs."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, NoReturn

from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TimeElapsedColumn,
)
from rich.text import Text

from .. import callbacks, runconfig
from ..callbacks import Callback
from ..diagnostics import show_error
from ..model import Sequential

EXIT_OK, EXIT_FAILED_CHECK, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, the shell's code for Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


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
        named = "|".join(keys)  # as `key` in a hint, else before =, :, must, applies, needs
        text = re.sub(rf"`({named})`", lambda match: flag(match[1]), str(error))
        return re.sub(rf"(?<![\w'.-])({named})(?=[=:]| must| applies| needs)",
                      lambda match: flag(match[1]), text)
    return str(error)


def flag(key: str) -> str:
    """The command line's flag for an option key: ``batch_size`` → ``--batch-size``."""
    return "--" + key.replace("_", "-")


def add_options(parser: argparse.ArgumentParser, keys: Iterable[str],
                helps: Mapping[str, str] | None = None) -> None:
    """A flag per option key, its help from :data:`runconfig.OPTIONS` (or ``helps``, by
    key); an option not given is absent from the parsed namespace. A true-or-false option
    is a ``--key`` / ``--no-key`` switch; one with a ``bare`` value takes a value or none
    (``--augment``, ``--augment flip,rotate``) and has a ``--no-key`` too."""
    for key in keys:
        option = runconfig.OPTIONS[key]
        kind: dict[str, Any] = {"metavar": option.metavar}
        if option.parse is runconfig.boolean:
            kind = {"action": argparse.BooleanOptionalAction}
        elif option.bare is not None:
            kind.update(nargs="?", const=option.bare)
        text = (helps or {}).get(key, option.help)
        parser.add_argument(flag(key), dest=key, default=argparse.SUPPRESS,
                            help=text.replace("%", "%%"), **kind)  # argparse formats %
        if option.bare is not None:
            parser.add_argument(f"--no-{flag(key)[2:]}", dest=key, action="store_const",
                                const="false", default=argparse.SUPPRESS,
                                help=f"turn {flag(key)} off")


def print_files(console: Console, folder: Path, report: Path) -> None:
    """What a command wrote in ``folder`` (hidden files aside), and the page to open."""
    files = sorted(path.name for path in folder.iterdir() if not path.name.startswith("."))
    console.print(Text(f"wrote {folder}/: {', '.join(files)}"))
    console.print(Text(f"open {report}"))


def checked(where: str, key: str, value: Any) -> Any:
    """``value`` of the flag for option ``key``, checked by :data:`runconfig.OPTIONS`."""
    option = runconfig.OPTIONS[key]
    try:
        return option.parse(value)
    except runconfig.BadValue as error:
        raise runconfig.ConfigError(f"{where}{flag(key)} must be {option.constraint}; "
                                    f"received {flag(key)}={value}.{error.help}") from None


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


def report_interruption(terminated: bool, kept: str, resume: str) -> int:
    """Say what was kept and how to go on; the exit code of the signal."""
    err = stderr_console()
    err.print(f"{'terminated (SIGTERM)' if terminated else 'interrupted'}: {kept}")
    err.print(f"resume with: deeprecipe {resume}")
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


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


# what a counting step's bar counts, and its status when it starts with some done (resumed)
COUNTS = {"train": ("epochs", "resumed after epoch {}"),
          "tune": ("trials", "{} read back from the earlier run"),
          "final": ("epochs", "{}")}
SHOW_AFTER = 2.0  # seconds: an epoch, or a file being read, shows its progress after this long


class ConsoleProgress(Callback):
    """Progress for people, for ``run`` and ``tune``: a spinner on a step, a bar on a
    counting one (training's epochs with the last dev error, a tune's trials), a line per
    finished step and per tune round. An epoch or a file read that lasts more than
    :data:`SHOW_AFTER` seconds adds its share done, its rate and the time left to the
    live line. A log file (no terminal) gets the lines, no live bar. ``new_folder`` is
    said when training starts: the input is read and the network built."""

    def __init__(self, console: Console, regression: bool = False,
                 new_folder: Path | None = None) -> None:
        self.console, self.regression, self.new_folder = console, regression, new_folder
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.status = ""  # the live line's status, before any progress inside the step
        self.descriptions: dict[str, str] = {}

    def on_step_begin(self, step: str, description: str, total: int | None = None,
                      done: int = 0) -> None:
        self.close()
        self.descriptions[step] = description
        if total is not None and self.new_folder is not None:
            self.console.print(Text(f"run folder: {self.new_folder}"))
            self.new_folder = None
        if not self.console.is_terminal:
            return
        columns: list[str | ProgressColumn] = [SpinnerColumn(), "{task.description}"]
        self.status = ""
        if total is not None:
            unit, resumed = COUNTS.get(step, ("", "{}"))
            columns = ["{task.description}", BarColumn(), MofNCompleteColumn(), unit]
            self.status = resumed.format(done) if done else ""
        self.progress = Progress(*columns, "{task.fields[status]}", TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.progress.start()
        self.task = self.progress.add_task(description, total=total, completed=done,
                                           status=self.status)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        self.status = f"dev error {logs.get('dev_error', float('nan')):.2%}"
        self.update(completed=epoch + 1, status=self.status)
        return False

    def on_trial_end(self, trial: Any) -> None:
        self.status = (trial.status if trial.dev_error is None else
                       f"last dev error {show_error(trial.dev_error, self.regression)}")
        self.update(advance=1, status=self.status)

    def on_progress(self, progress: callbacks.Progress) -> None:
        if progress.seconds >= SHOW_AFTER:
            self.update(status=" · ".join(filter(None, [self.status, progress_text(progress)])))

    def on_round_end(self, round: Any) -> None:
        best = next((t for t in round.trials if t.key == round.best_key), None)
        kept = "" if best is not None else " (the best model is still an earlier one)"
        dev = "" if best is None or best.dev_error is None else \
            f": best dev error {show_error(best.dev_error, self.regression)}"
        n = len(round.trials)
        self.console.print(Text.assemble(
            ("✓", "green"), f" round {round.number} {round.action.replace('_', ' ')}, "
            f"{n} trial{'' if n == 1 else 's'}{dev}{kept}"))

    def on_step_end(self, step: str, seconds: float, summary: str) -> None:
        self.close()
        text = self.descriptions.get(step, step) + (f": {summary}" if summary else "")
        self.console.print(Text.assemble(("✓", "green"), f" {text} ",
                                         (f"({seconds:.1f} s)", "dim")))

    def update(self, **fields: Any) -> None:
        """Move the live bar, if one is drawn."""
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, **fields)

    def close(self) -> None:
        """Stop the live display (also after an interruption)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress, self.task = None, None


@contextlib.contextmanager
def live_line(console: Console, description: str) -> Iterator[ConsoleProgress]:
    """A live line (on a terminal) for work that prints no line when it ends, such as
    ``tune``'s loading; the yielded :class:`ConsoleProgress` hears the work's progress."""
    progress = ConsoleProgress(console)
    progress.on_step_begin("data", description)
    try:
        yield progress
    finally:
        progress.close()


def progress_text(progress: callbacks.Progress) -> str:
    """``epoch 3: 25% of 4,000,000 samples, 250,000 samples/s, 0:00:12 left``, or for a
    file read in bytes ``40% of 380.0 MB, 95.0 MB/s, 0:00:02 left``."""
    def count(n: float) -> str:
        if progress.unit == "bytes":
            return filesize.decimal(int(n))
        return f"{n:,.0f} {progress.unit}"

    parts = [f"{progress.done / progress.total:.0%} of {count(progress.total)}"
             if progress.total > 0 else count(progress.done), f"{count(progress.rate)}/s"]
    if progress.seconds_left is not None:
        parts.append(f"{timedelta(seconds=round(progress.seconds_left))} left")
    text = ", ".join(parts)
    return text if progress.epoch is None else f"epoch {progress.epoch + 1}: {text}"
