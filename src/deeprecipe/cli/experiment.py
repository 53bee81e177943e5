"""``deeprecipe experiment initialization|regularization``: :func:`deeprecipe.experiments.run`
on the command line, its table and findings printed, its page in ``runs/experiment-<name>/``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import experiments, runconfig
from .base import EXIT_OK, checked


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "experiment", help="run one of the notes' lessons side by side, with plots",
        description="initialization: zeros vs large random (×10) vs He on the 2-D circles. "
        "regularization: none vs L2 vs dropout on noisy 2-D moons. The networks are compared "
        "on a dev set, which chooses one; only that one is measured on the test set, once. "
        "Prints a table and writes report.html, the plots and summary.json.",
    )
    parser.add_argument("name", choices=experiments.NAMES)
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder: new, empty, or an experiment's (default: "
                        "runs/experiment-<name>/)")
    parser.add_argument("--epochs", type=runconfig.integer, default=None,
                        help="training epochs of every network (default: the experiment's)")
    parser.add_argument("--seed", type=runconfig.integer, default=0,
                        help="seeds the data and every network (default: 0)")
    parser.set_defaults(handler=experiment_command)


def experiment_command(args: argparse.Namespace, console: Console) -> int:
    options: dict[str, Any] = {"seed": checked("", "seed", args.seed)}
    if args.epochs is not None:
        options["epochs"] = checked("", "epochs", args.epochs)
    folder = args.out if args.out is not None else Path("runs", f"experiment-{args.name}")
    check_out(folder)
    replaced = (folder / "report.html").exists()
    with console.status(f"running the {args.name} experiment"):
        experiment = experiments.run(args.name, **options)
        paths = experiments.write_experiment(experiment, folder)
    console.print(table(experiment))
    for finding in experiment.findings:
        console.print(Text(f"- {finding}"))
    verb = "replaced" if replaced else "wrote"
    console.print(Text(f"{verb} {paths['report']} (plots and summary.json beside it)"))
    return EXIT_OK


def check_out(folder: Path) -> None:
    """``--out`` is a new or empty folder, or one an experiment wrote: its report.html and
    summary.json are replaced, and another's (a run's, a tune's) must not be."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out must be a folder; received --out={str(folder)!r}, a file.")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = None
    written = isinstance(summary, dict) and summary.get("name") in experiments.NAMES
    others = sorted((path.name for path in folder.iterdir()
                     if path.name not in ("report.html", "summary.json")
                     and not path.name.endswith(".png")),
                    key=lambda name: (name.startswith("."), name))  # run.json before .lock
    if not written or others:
        holds = f"{others[0]}" if others else "a summary.json no experiment wrote"
        raise ValueError(f"--out must be a new or empty folder, or one an experiment wrote; "
                         f"received --out={str(folder)!r}, which holds {holds}. help: choose "
                         "another folder (an experiment replaces its report.html, "
                         "summary.json and plots).")


def table(experiment: experiments.Experiment) -> Table:
    """The experiment's rows as a rich table."""
    rows = experiment.table()
    out = Table(title=f"{experiment.title} ({experiment.seconds:.1f} s)", title_justify="left")
    for index, column in enumerate(rows[0]):
        numeric = index > 0 and column not in ("weights", "setting")
        out.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        out.add_row(*row.values())
    return out
