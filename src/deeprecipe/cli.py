"""The ``deeprecipe`` command line: the only part of deeprecipe that prints.

``deeprecipe run`` trains a network on a built-in dataset and prints its train, dev and
test error. Errors in the input become a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table

from . import __version__, data, datasets
from .layers import Dense, Dropout
from .model import Sequential

EXIT_OK, EXIT_FAILED_CHECK, EXIT_USAGE = 0, 1, 2


def prepare(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[data.Splits, list[str]]:
    """Split with the notes' sizes (``dr.data.split``) and standardize every part with the
    training set's μ and σ only (``dr.data.standardize_splits``).

    Returns the standardized splits and the lines to show: the standardizer's
    constant-feature warning becomes one line of the output instead of a Python warning on
    every run.
    """
    splits = data.split(X, y, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.ConstantFeatureWarning)
        scaled, scaler = data.standardize_splits(splits)
    notes = [splits.note] if splits.note else []
    if scaler.constant_features_ is not None and scaler.constant_features_.size:
        notes.append(scaler.constant_message())
    return scaled, notes


def run(args: argparse.Namespace, console: Console) -> int:
    X, y = datasets.load(args.data)
    splits, notes = prepare(X, y, args.seed)
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    n_classes = len(np.unique(y))
    model = Sequential(
        [Dense(args.hidden, activation="relu"), Dropout(args.keep_prob),
         Dense(args.hidden // 2, activation="relu"), Dense(n_classes, activation="softmax")],
        input_dim=X.shape[1], l2=args.l2, seed=args.seed,
    )
    console.print(model.summary())
    history = model.fit(
        *splits.train, validation_data=(splits.dev.X, splits.dev.y), epochs=args.epochs,
        batch_size=args.batch_size, optimizer="adam", learning_rate=args.learning_rate,
        seed=args.seed,
    )
    table = Table(title=f"{args.data}: {history.epochs} epochs in {sum(history['time']):.2f} s")
    for column in ("split", "examples", "cost", "error"):
        table.add_column(column, justify="right" if column != "split" else "left")
    for name, part in splits.parts.items():
        measured = model.evaluate(part.X, part.y)
        table.add_row(name, str(len(part)), f"{measured['loss']:.4f}",
                      f"{measured['error']:.2%}")
    console.print(table)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deeprecipe", description="The practical side of training deep neural networks."
    )
    parser.add_argument("--version", action="version", version=f"deeprecipe {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="train a network on built-in data")
    run_parser.add_argument("--data", default="digits", choices=datasets.list())
    run_parser.add_argument("--epochs", type=int, default=60)
    run_parser.add_argument("--batch-size", type=int, default=64)
    run_parser.add_argument("--learning-rate", type=float, default=1e-3)
    run_parser.add_argument("--hidden", type=int, default=128)
    run_parser.add_argument("--keep-prob", type=float, default=0.8)
    run_parser.add_argument("--l2", type=float, default=1.0)
    run_parser.add_argument("--seed", type=int, default=0)
    run_parser.set_defaults(handler=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return int(args.handler(args, console))
    except (ValueError, TypeError, FileNotFoundError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
