"""The ``deeprecipe`` command line: the only part of deeprecipe that prints.

``deeprecipe run`` trains a network on a built-in dataset and prints its train, dev and
test error. ``deeprecipe gradcheck`` checks a saved model's (or a config's) backpropagation
and exits 1 when the check fails, so it can guard CI. Errors in the input become a one-line
message and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from . import __version__, data, datasets, gradcheck, persistence
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


def load_data(spec: str, target: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``X, y`` from a built-in dataset name, a ``.csv`` file (with ``target``) or ``.npz``."""
    if spec in datasets.list():
        return datasets.load(spec)
    suffix = Path(spec).suffix.lower()
    if suffix == ".csv":
        if not target:
            raise ValueError(f"--target must name the label column of {spec}; received none.")
        X, y = data.load_csv(spec, target=target)
        return X, y
    if suffix == ".npz":
        X, y = data.load_npz(spec)
        return X, y
    raise ValueError(f"--data must be a built-in dataset ({', '.join(datasets.list())}), a "
                     f".csv or an .npz file; received --data={spec!r}.")


def load_model(path: str) -> Sequential:
    """A saved model folder (``dr.load``), or a model config (``config.json`` of a saved
    model, or a bare ``Sequential.get_config()``) built freshly initialized."""
    location = Path(path)
    if (location / persistence.WEIGHTS_FILE).is_file():
        return persistence.load(location)
    file = location / persistence.CONFIG_FILE if location.is_dir() else location
    if not file.is_file():
        raise FileNotFoundError(f"no saved model or config at {path}")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{file} is not valid JSON ({error}).") from None
    return Sequential.from_config(config.get("model", config))


def gradcheck_command(args: argparse.Namespace, console: Console) -> int:
    model = load_model(args.model)
    X, y = load_data(args.data, args.target)
    X = X[: args.rows]
    if model.standardizer is not None:
        X = model.standardizer.transform(X)
    points = args.points.split(",")
    reports = gradcheck.check_model(
        model, X, y[: args.rows], args.epsilon, mode=args.mode, dropout=args.dropout,
        points=tuple(points), seed=args.seed,
    )
    if args.json:
        print(json.dumps({name: report.to_dict() for name, report in reports.items()},
                         indent=2, default=float))
    else:
        for name, report in reports.items():
            console.print(f"[bold]{name}[/bold]")
            print(report.table(width=max(console.width, 110)), end="")
    passed = all(report.passed for report in reports.values())
    return EXIT_OK if passed else EXIT_FAILED_CHECK


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

    check_parser = commands.add_parser(
        "gradcheck", help="check a model's backpropagation against numerical gradients",
        description="Gradient-check a saved model (or a model config) on some rows of data; "
        "exit code 1 when the check fails.",
    )
    check_parser.add_argument("model", help="a saved model folder, or a model config JSON")
    check_parser.add_argument("--data", default="digits",
                              help="built-in dataset name, .csv or .npz (default: digits)")
    check_parser.add_argument("--target", help="the label column of a CSV file")
    check_parser.add_argument("--rows", type=int, default=32,
                              help="how many examples J is computed on (default: 32)")
    check_parser.add_argument("--mode", default="full", choices=gradcheck.MODES)
    check_parser.add_argument("--epsilon", type=float, default=1e-7)
    check_parser.add_argument("--dropout", default="off", choices=("off", "fixed"))
    check_parser.add_argument("--points", default="current",
                              help="comma-separated: current, init, trained (default: current)")
    check_parser.add_argument("--seed", type=int, default=0)
    check_parser.add_argument("--json", action="store_true", help="print the report as JSON")
    check_parser.set_defaults(handler=gradcheck_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return int(args.handler(args, console))
    except (ValueError, TypeError, FileNotFoundError) as error:
        Console(stderr=True).print(f"[red]error:[/red] {error}", highlight=False,
                                   soft_wrap=True)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
