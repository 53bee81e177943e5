"""The ``deeprecipe`` command line, the only part of deeprecipe that prints: one module per
command and :mod:`.base` for what they share."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.text import Text

from .._version import __version__
from . import base, diagnose, experiment, gradcheck, predict, run, tune
from .base import EXIT_FAILED_CHECK, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, message

__all__ = ["EXIT_FAILED_CHECK", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "EXIT_USAGE",
           "build_parser", "main", "message"]


def build_parser() -> argparse.ArgumentParser:
    parser = base.Parser(prog="deeprecipe",
                         description="The practical side of training deep neural networks.")
    parser.add_argument("--version", action="version", version=f"deeprecipe {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (run, gradcheck, diagnose, predict, experiment, tune):  # --help's order
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for argument in sys.argv[1:] if argv is None else argv:
        try:  # names are written into UTF-8 files (run.json, the report)
            argument.encode("utf-8")
        except UnicodeEncodeError:  # a file name's bytes in another encoding
            return usage_error(f"the argument {argument!a} holds bytes that are not UTF-8. "
                               "help: rename the file or folder.")
    args = build_parser().parse_args(argv)
    console = base.ReaderFreeConsole(soft_wrap=True, highlight=False)
    try:
        return int(args.handler(args, console))
    except (ValueError, TypeError, OSError, MemoryError) as error:  # else a bug: a traceback
        return usage_error(message(error))
    except KeyboardInterrupt:
        base.stderr_console().print("interrupted")
        return EXIT_INTERRUPTED


def usage_error(text: str) -> int:
    base.stderr_console().print(Text.assemble(("error:", "red"), f" {text}"))
    return EXIT_USAGE
