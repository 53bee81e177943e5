"""``deeprecipe gradcheck MODEL``: check a saved model's backpropagation; exit 1 when it fails."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from .. import datasets, gradcheck, persistence, runconfig, workflow
from .._checks import positive_int
from ..data.encode import Encoder
from ..model import Sequential, from_config_file, load
from .base import EXIT_FAILED_CHECK, EXIT_OK, checked, task_of, write_stdout


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "gradcheck", help="check a model's backpropagation against numerical gradients",
        description="Gradient-check a saved model (or a model config) on some rows of data; "
        "exit code 1 when the check fails.",
    )
    parser.add_argument("model", help="a saved model folder, or a model config JSON")
    parser.add_argument("--data", default=None,
                        help="built-in dataset name or data file: .csv, .tsv, .parquet, .npy, "
                        ".npz, .mat, .h5 (default: digits)")
    parser.add_argument("--target", metavar="COLUMN",
                        help="the label column of a CSV, TSV or Parquet file")
    parser.add_argument("--target-file", metavar="FILE",
                        help="the .npy file of the labels of .npy data")
    parser.add_argument("--arrays", default=None, metavar=runconfig.OPTIONS["arrays"].metavar,
                        help=runconfig.OPTIONS["arrays"].help)
    parser.add_argument("--rows", type=runconfig.integer, default=32,
                        help="how many examples J is computed on (default: 32)")
    parser.add_argument("--mode", default="full", choices=gradcheck.MODES,
                        help="full: every parameter; sampled: some of each block; "
                        "directional: random directions per block (default: full)")
    parser.add_argument("--epsilon", type=runconfig.number, default=1e-7,
                        help="the notes' step ε of the two-sided difference "
                        "(default: 1e-7)")
    parser.add_argument("--dropout", default="off", choices=gradcheck.DROPOUT_MODES,
                        help="off: keep_prob = 1, as the notes advise; fixed: dropout "
                        "on with the same masks at every evaluation (default: off)")
    parser.add_argument("--points", default="current",
                        help="comma-separated: current (the model's own weights), init "
                        "(a fresh initialization of the same network), trained (that "
                        "fresh copy trained briefly on the checked rows) "
                        "(default: current)")
    parser.add_argument("--seed", type=runconfig.integer, default=0,
                        help="seeds sampling, directions, fresh weights (default: 0)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=gradcheck_command)


def load_model(path: str) -> Sequential:
    """A saved model folder (``dr.load``, with its weights), or a model config file (a saved
    ``config.json`` or a bare ``Sequential.get_config()``) freshly initialized."""
    location = Path(path)
    if location.is_dir():
        return load(path)  # the path as given: '' is no folder's name
    if not location.is_file():
        raise FileNotFoundError(f"no saved model or config at {path}")
    return from_config_file(location)


def saved_encoder(path: str) -> Encoder | None:
    """The table encoder saved with a model folder (``None``: none, or a config file)."""
    if not Path(path).is_dir():
        return None
    state = persistence.read_folder(path).config.get("encoder")
    return None if state is None else Encoder.from_dict(state)


def saved_image_size(path: str, data: str) -> tuple[int, int] | None:
    """The size a folder of images is read at for a model folder trained on images (its
    config's ``image_shape``); ``None`` for other data, or a model without one."""
    if not Path(path).is_dir() or data in datasets.list() or not Path(data).is_dir():
        return None
    shape = persistence.read_folder(path).config.get("image_shape")
    return None if not shape else (int(shape[0]), int(shape[1]))


POINT_TITLES = {  # gradcheck.POINTS, as the command's output calls them
    "current": "at the model's own weights",
    "init": "at a fresh initialization of the same network",
    "trained": "after training a fresh initialization briefly on the checked rows",
}


def gradcheck_command(args: argparse.Namespace, console: Console) -> int:
    model = load_model(args.model)
    positive_int("gradcheck", "--rows", args.rows)
    checked("gradcheck: ", "seed", args.seed)
    points = [point.strip() for point in args.points.split(",")]
    if any(point not in POINT_TITLES for point in points):
        raise ValueError(f"gradcheck: --points must be a comma-separated list of "
                         f"{', '.join(POINT_TITLES)}; received --points={args.points!r}.")
    # a file's target is read as the model's; a built-in dataset's is its own
    data = "digits" if args.data is None else args.data
    task = "auto" if data in datasets.list() else task_of(model)
    arrays = None if args.arrays is None else checked("gradcheck: ", "arrays", args.arrays)
    loaded = workflow.load_data(data, args.target, task, target_file=args.target_file,
                                arrays=arrays, image_size=saved_image_size(args.model, data))
    encoder = saved_encoder(args.model)
    if encoder is not None:  # a model of a table as it came: its raw columns encoded
        loaded = dataclasses.replace(loaded, X=encoder.transform(loaded.X, loaded.categories))
    if loaded.X.shape[1] != model.input_dim:
        raise ValueError(f"gradcheck: --data must have {model.input_dim} feature columns (the "
                         f"model's input_dim); received --data={data!r}"
                         f"{' (the default)' if args.data is None else ''} with "
                         f"{loaded.X.shape[1]}. help: pass --data with the model's data.")
    X, y = loaded.X[: args.rows], loaded.y[: args.rows]
    if model.standardizer is not None:
        X = model.standardizer.transform(X)
    reports = gradcheck.check_model(
        model, X, y, args.epsilon, mode=args.mode, dropout=args.dropout,
        points=tuple(points), seed=args.seed,
    )
    if args.json:
        write_stdout(json.dumps({name: report.to_dict() for name, report in reports.items()},
                                indent=2) + "\n")
    else:
        for name, report in reports.items():
            console.print(Text(f"{POINT_TITLES[name]} ({len(X)} rows)", style="bold"))
            write_stdout(report.table(width=max(console.width, 110)))
    # exit 1 means a block reads worry; a check with no verdict (every block within the
    # noise floor) says so in its table and fails nothing
    failed = any(report.failed for report in reports.values())
    return EXIT_FAILED_CHECK if failed else EXIT_OK
