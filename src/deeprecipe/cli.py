"""The ``deeprecipe`` command line: the only part of deeprecipe that prints.

``deeprecipe run`` trains a network on a built-in dataset and prints its train, dev and
test error. Errors in the input become a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.model_selection import train_test_split

from . import __version__, datasets
from .layers import Dense, Dropout
from .model import Sequential

EXIT_OK, EXIT_FAILED_CHECK, EXIT_USAGE = 0, 1, 2


def _split(X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """60/20/20 stratified train/dev/test (the notes' split for small data)."""
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, stratify=y, random_state=seed
    )
    X_dev, X_test, y_dev, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed
    )
    return {"train": (X_train, y_train), "dev": (X_dev, y_dev), "test": (X_test, y_test)}


def run(args: argparse.Namespace, console: Console) -> int:
    X, y = datasets.load(args.data)
    parts = _split(X, y, args.seed)
    # Normalize with the training set's statistics only (the notes' x_norm = (x - μ) / σ).
    mean = parts["train"][0].mean(axis=0)
    std = parts["train"][0].std(axis=0)
    std[std == 0] = 1.0
    parts = {name: ((Xp - mean) / std, yp) for name, (Xp, yp) in parts.items()}
    n_classes = len(np.unique(y))
    model = Sequential(
        [Dense(args.hidden, activation="relu"), Dropout(args.keep_prob),
         Dense(args.hidden // 2, activation="relu"), Dense(n_classes, activation="softmax")],
        input_dim=X.shape[1], l2=args.l2, seed=args.seed,
    )
    console.print(model.summary())
    history = model.fit(
        *parts["train"], validation_data=parts["dev"], epochs=args.epochs,
        batch_size=args.batch_size, optimizer="adam", learning_rate=args.learning_rate,
        seed=args.seed,
    )
    table = Table(title=f"{args.data}: {history.epochs} epochs in {sum(history['time']):.2f} s")
    for column in ("split", "examples", "cost", "error"):
        table.add_column(column, justify="right" if column != "split" else "left")
    for name, (Xp, yp) in parts.items():
        measured = model.evaluate(Xp, yp)
        table.add_row(name, str(len(Xp)), f"{measured['loss']:.4f}", f"{measured['error']:.2%}")
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
