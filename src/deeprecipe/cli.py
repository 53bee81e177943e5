"""The ``deeprecipe`` command line: the only part of deeprecipe that prints.

==============================  ==============================================================
``deeprecipe run``              the whole workflow into ``runs/<name>/`` (:mod:`.cli_run`)
``deeprecipe gradcheck MODEL``  check a saved model's backpropagation; exit 1 when it fails
``deeprecipe diagnose``         bias/variance from train, dev (and Bayes) error, and advice
``deeprecipe predict MODEL``    predictions of a saved model as CSV
``deeprecipe experiment NAME``  the notes' lessons side by side (:mod:`.cli_experiment`)
``deeprecipe tune``             the basic recipe, automated (:mod:`.cli_tune`)
==============================  ==============================================================

Exit codes: 0 success; 1 a failed check (a gradient check, a diverged run); 2 a usage or
input error, with a one-line message on stderr; 130 (Ctrl-C) or 143 (SIGTERM) a run
interrupted after writing its checkpoint. Tracebacks only for bugs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from rich.console import Console
from rich.text import Text

from . import __version__, datasets, gradcheck, persistence, runconfig, workflow
from .cli_experiment import add_experiment_parser
from .cli_run import (
    EXIT_FAILED_CHECK,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ReaderFreeConsole,
    add_run_parser,
    stderr_console,
    write_stdout,
)
from .cli_tune import add_tune_parser
from .data import load_csv, load_csv_features, load_npz
from .data.io import load_npz_features
from .diagnostics import Diagnosis, diagnose, show_error
from .diagnostics.bias_variance import FRACTION
from .model import Sequential

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
    return str(error)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2) that name the command and the fix."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}. help: {self.prog} --help\n")


# --- gradcheck --------------------------------------------------------------------------------


def load_model(path: str) -> Sequential:
    """A saved model folder (``dr.load``: its weights are required), or a model config file
    (``config.json`` of a saved model, or a bare ``Sequential.get_config()``) built freshly
    initialized."""
    location = Path(path)
    if location.is_dir():
        return persistence.load(path)  # the path as given: '' is no folder's name
    if not location.is_file():
        raise FileNotFoundError(f"no saved model or config at {path}")
    return persistence.from_config_file(location)


POINT_TITLES = {  # gradcheck.POINTS, as the command's output calls them
    "current": "at the model's own weights",
    "init": "at a fresh initialization of the same network",
    "trained": "after training a fresh initialization briefly on the checked rows",
}


def gradcheck_command(args: argparse.Namespace, console: Console) -> int:
    model = load_model(args.model)
    if args.rows < 1:
        raise ValueError(f"gradcheck: --rows must be a positive integer; received "
                         f"--rows={args.rows}.")
    if not 0 <= args.seed <= runconfig.SEED_MAX:
        raise ValueError(f"gradcheck: --seed must be {runconfig.OPTIONS['seed'].constraint}; "
                         f"received --seed={args.seed}.")
    points = [point.strip() for point in args.points.split(",")]
    unknown = [point for point in points if point not in POINT_TITLES]
    if unknown or not points:
        raise ValueError(f"gradcheck: --points must be a comma-separated list of "
                         f"{', '.join(POINT_TITLES)}; received --points={args.points!r}.")
    # a file's target is read as the model's; a built-in dataset's is its own
    data = "digits" if args.data is None else args.data
    task = "auto" if data in datasets.list() else task_of(model)
    loaded = workflow.load_data(data, args.target, task)
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
                                indent=2, default=float) + "\n")
    else:
        for name, report in reports.items():
            console.print(Text(f"{POINT_TITLES[name]} ({len(X)} rows)", style="bold"))
            write_stdout(report.table(width=max(console.width, 110)))
    # exit 1 means a block reads worry; a check with no verdict (every block within the
    # noise floor) says so in its table and fails nothing
    failed = any(report.failed for report in reports.values())
    return EXIT_FAILED_CHECK if failed else EXIT_OK


# --- diagnose ---------------------------------------------------------------------------------


def error_rate(flag: str, text: str, regression: bool) -> float:
    """``0.01`` or ``1%`` as a fraction, by the library's one rule (a bare number above 1 is
    refused with the hint to write ``11%``:
    :func:`~deeprecipe.diagnostics.bias_variance.fraction`); a mean squared error >= 0 with
    ``--regression``."""
    parse = runconfig.non_negative if regression else runconfig.fraction
    try:
        return float(parse(text))
    except runconfig.BadValue as error:
        constraint = "a mean squared error >= 0" if regression else FRACTION
        raise ValueError(f"diagnose: {flag} must be {constraint}; received "
                         f"{flag}={text!r}.{error.help}") from None


def diagnose_command(args: argparse.Namespace, console: Console) -> int:
    regression = args.regression

    def read(name: str) -> float | None:
        text = getattr(args, name)
        return None if text is None else error_rate(f"--{name.replace('_', '-')}", text,
                                                    regression)

    diagnosis = diagnose(
        error_rate("--train-error", args.train_error, regression),
        error_rate("--dev-error", args.dev_error, regression), read("bayes_error") or 0.0,
        test_error=read("test_error"), n_train=args.n_train, n_dev=args.n_dev,
        regression=regression,
    )
    if args.json:
        write_stdout(json.dumps(diagnosis.to_dict(), indent=2) + "\n")
    else:
        print_diagnosis(console, diagnosis, regression)
    return EXIT_OK


def print_diagnosis(console: Console, diagnosis: Diagnosis, regression: bool) -> None:
    """The verdict, the two gaps, the recipe's steps in order, and the remarks."""
    def show(value: float) -> str:
        return show_error(value, regression)

    console.print(Text(diagnosis.verdict, style="bold"))
    console.print(f"train error {show(diagnosis.train_error)}, dev error "
                  f"{show(diagnosis.dev_error)}, Bayes error {show(diagnosis.bayes_error)}")
    console.print(f"avoidable bias {show(diagnosis.avoidable_bias)} (train − Bayes), variance "
                  f"{show(diagnosis.variance)} (dev − train)")
    if diagnosis.dev_interval is not None:
        low, high = diagnosis.dev_interval
        console.print(f"dev error 95% interval: {show(low)}–{show(high)}")
    console.print("next steps (the basic recipe, in order):")
    for number, advice in enumerate(diagnosis.advice, start=1):
        console.print(Text(f"  {number}. {advice}"))
    for remark in diagnosis.remarks:
        console.print(Text(f"note: {remark}"))


# --- predict ----------------------------------------------------------------------------------


def task_of(model: Sequential) -> str:
    """What a data file's target must be read as to score ``model``."""
    return "regression" if model.loss.task == "regression" else "classification"


def predict_inputs(spec: str, target: str | None, model: Sequential,
                   classes: list[Any] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(X, y or None)`` to predict on: a built-in dataset, an ``.npz`` (``X``, optional
    ``y``), or a ``.csv`` whose feature columns are picked by the names the model's
    standardizer was fit with (``--target`` names a label column to score against; its
    labels are matched to the model's ``classes`` by name)."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if target is not None and (spec in datasets.list() or suffix == ".npz"):
        raise ValueError(f"predict: --target applies to CSV data only (the labels of an .npz "
                         f"are its array 'y'); received --target={target!r} with "
                         f"--data={spec!r}.")
    if spec in datasets.list():
        return datasets.load(spec)
    if suffix == ".npz":
        return npz_inputs(path, model, classes)
    if suffix != ".csv":
        raise ValueError(f"predict: --data must be a .csv or .npz file or a built-in dataset "
                         f"({', '.join(datasets.list())}); received --data={spec!r}.")
    names = model.standardizer.feature_names_ if model.standardizer is not None else None
    if target is not None:
        table = load_csv(path, target=target, task=task_of(model), min_rows=1, min_classes=1)
        y = model_codes(table.y, table.classes, classes, f"the --target column {target!r}")
        if names is None:
            return table.X, y
        X, _ = load_csv_features(path, names)
        return X, y
    X, _ = load_csv_features(path, names)
    return X, None


def model_codes(y: np.ndarray, labels: list[Any] | None, classes: list[Any] | None,
                where: str) -> np.ndarray:
    """A file's class codes (``labels[y[i]]`` is row ``i``'s label) as the model's codes
    (``classes[code]``): by label, so a file without some class still scores right.
    ``where`` names the labels' place for the error."""
    if labels is None or classes is None:
        return y
    code = {label: index for index, label in enumerate(classes)}
    unknown = [label for label in labels if label not in code]
    if unknown:
        raise ValueError(f"predict: {where} holds labels the model was not trained on: "
                         f"{unknown[:5]}; it knows {classes}.")
    return np.array([code[label] for label in labels], dtype=np.intp)[y]


def npz_inputs(path: Path, model: Sequential, classes: list[Any] | None = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """``X`` (flattened) and, when present, ``y`` of an ``.npz`` file (as the model's
    class codes, see :func:`model_codes`)."""
    X = load_npz_features(path)  # the file and its X checked, as training checks them
    with np.load(path, allow_pickle=False) as archive:
        if "y" not in archive.files:
            return X.reshape(len(X), -1), None
    # load_npz checks X and y against each other
    loaded = load_npz(path, task=task_of(model), min_rows=1, min_classes=1)
    y = model_codes(loaded.y, loaded.classes, classes, f"the array 'y' of {path}")
    return loaded.X.reshape(len(loaded.X), -1), y


def predictions_csv(model: Sequential, X: np.ndarray, classes: list[Any] | None) -> str:
    """``label`` (the original class names when known) and ``p_<class>`` per class for
    classifiers; ``prediction`` for regression."""
    regression = model.loss.task == "regression"
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused below
        outputs = model.predict(X) if regression else model.predict_proba(X)
    outputs = outputs.reshape(len(X), -1)
    bad = np.flatnonzero(~np.isfinite(outputs).all(axis=1))
    if bad.size:
        raise ValueError(f"predict: the model's output is not finite (an overflow) on "
                         f"{bad.size} of {len(X)} rows, the first is row {bad[0] + 1}; the "
                         "inputs (or the weights) are far outside the range it was trained "
                         "on.")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if regression:
        writer.writerow(["prediction"] if outputs.shape[1] == 1 else
                        [f"prediction_{j}" for j in range(outputs.shape[1])])
        writer.writerows([[f"{v:.9g}" for v in row] for row in outputs])
        return buffer.getvalue()
    # a saved model's classes match its output layer: dr.load checked them
    names = classes if classes is not None else list(range(outputs.shape[1]))
    writer.writerow(["label", *(f"p_{name}" for name in names)])
    for index, row in zip(outputs.argmax(axis=1), outputs, strict=True):
        writer.writerow([names[index], *(f"{p:.6g}" for p in row)])
    return buffer.getvalue()


def check_out(out: Path, data: str, model: str) -> None:
    """``predict --out`` replaces neither its input (the ``--data`` file) nor a file of the
    model: both were lost to a careless ``--out``."""
    if out.is_file() and Path(data).is_file() and out.samefile(data):
        raise ValueError(f"predict: --out must not be the --data file; received --out="
                         f"{str(out)!r}. help: write the predictions to another file.")
    if out.resolve().is_relative_to(Path(model).resolve()):
        raise ValueError(f"predict: --out must be outside the model folder {model}; received "
                         f"--out={str(out)!r}.")


def predict_command(args: argparse.Namespace, console: Console) -> int:
    if args.out is not None and not args.out.strip():  # Path("") is the working folder
        raise ValueError("predict: --out must be a file path; received --out=''.")
    if args.out is not None:
        check_out(Path(args.out), args.data, args.model)
    model, saved = persistence.read(args.model)
    X, y = predict_inputs(args.data, args.target, model, saved.get("classes"))
    if X.shape[1] != model.input_dim:
        raise ValueError(f"predict: --data must have {model.input_dim} feature columns (the "
                         f"model's input); received {X.shape[1]} in {args.data}.")
    text = predictions_csv(model, X, saved.get("classes"))
    err = stderr_console()
    if args.out is None:
        write_stdout(text)
    else:
        out = Path(args.out)
        if out.is_dir():
            raise IsADirectoryError(f"predict: --out must be a file path; received "
                                    f"--out={args.out!r}, a folder.")

        def write(tmp: Path) -> None:
            tmp.write_text(text, encoding="utf-8")

        try:
            persistence.atomic_write(out, write)
        except OSError as error:  # it names the temporary file beside --out
            reason = "a folder on its path is a file" if isinstance(
                error, (FileExistsError, NotADirectoryError)) else error.strerror
            raise ValueError(f"predict: cannot write --out={args.out!r}: {reason}.") from None
        console.print(Text(f"wrote {len(X):,} predictions to {out}"))
    if y is not None:
        score = model.evaluate(X, y)["error"]
        what = "MSE" if model.loss.task == "regression" else "error"
        err.print(f"{what} on {args.data}: "
                  f"{show_error(score, model.loss.task == 'regression')} "
                  f"({len(X):,} examples)")
    return EXIT_OK


# --- the parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="deeprecipe", description="The practical side of training deep neural networks."
    )
    parser.add_argument("--version", action="version", version=f"deeprecipe {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_run_parser(commands)

    check_parser = commands.add_parser(
        "gradcheck", help="check a model's backpropagation against numerical gradients",
        description="Gradient-check a saved model (or a model config) on some rows of data; "
        "exit code 1 when the check fails.",
    )
    check_parser.add_argument("model", help="a saved model folder, or a model config JSON")
    check_parser.add_argument("--data", default=None,
                              help="built-in dataset name, .csv or .npz (default: digits)")
    check_parser.add_argument("--target", help="the label column of a CSV file")
    check_parser.add_argument("--rows", type=runconfig.integer, default=32,
                              help="how many examples J is computed on (default: 32)")
    check_parser.add_argument("--mode", default="full", choices=gradcheck.MODES,
                              help="full: every parameter; sampled: some of each block; "
                              "directional: random directions per block (default: full)")
    check_parser.add_argument("--epsilon", type=runconfig.number, default=1e-7,
                              help="the notes' step ε of the two-sided difference "
                              "(default: 1e-7)")
    check_parser.add_argument("--dropout", default="off", choices=("off", "fixed"),
                              help="off: keep_prob = 1, as the notes advise; fixed: dropout "
                              "on with the same masks at every evaluation (default: off)")
    check_parser.add_argument("--points", default="current",
                              help="comma-separated: current (the model's own weights), init "
                              "(a fresh initialization of the same network), trained (that "
                              "fresh copy trained briefly on the checked rows) "
                              "(default: current)")
    check_parser.add_argument("--seed", type=runconfig.integer, default=0,
                              help="seeds sampling, directions, fresh weights (default: 0)")
    check_parser.add_argument("--json", action="store_true", help="print the report as JSON")
    check_parser.set_defaults(handler=gradcheck_command)

    diagnose_parser = commands.add_parser(
        "diagnose", help="bias/variance from train and dev error, and the recipe's advice",
        description="Read bias and variance the notes' way: avoidable bias = train − Bayes "
        "error, variance = dev − train error; print the verdict and the basic recipe's next "
        "steps. Errors are fractions (0.01, or 1 for 100%) or percentages with their sign "
        "(1%); a bare number above 1 is refused.",
    )
    diagnose_parser.add_argument("--train-error", required=True, metavar="ERROR")
    diagnose_parser.add_argument("--dev-error", required=True, metavar="ERROR")
    diagnose_parser.add_argument("--bayes-error", default=None, metavar="ERROR",
                                 help="Bayes (human-level) error (default: 0)")
    diagnose_parser.add_argument("--test-error", default=None, metavar="ERROR")
    diagnose_parser.add_argument("--n-dev", type=runconfig.integer, default=None, metavar="N",
                                 help="dev examples: gives the dev error's confidence interval")
    diagnose_parser.add_argument("--n-train", type=runconfig.integer, default=None, metavar="N")
    diagnose_parser.add_argument("--regression", action="store_true",
                                 help="errors are mean squared errors")
    diagnose_parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    diagnose_parser.set_defaults(handler=diagnose_command)

    predict_parser = commands.add_parser(
        "predict", help="predictions of a saved model as CSV",
        description="Predict with a saved model (e.g. runs/<name>/model), applying its "
        "standardizer: a label column and, for classifiers, one probability column per class.",
    )
    predict_parser.add_argument("model", help="a saved model folder (runs/<name>/model)")
    predict_parser.add_argument("--data", required=True,
                                help=".csv with a header row (feature columns by name), "
                                ".npz or a built-in name")
    predict_parser.add_argument("--target", default=None,
                                help="a label column of the CSV: also print the error")
    predict_parser.add_argument("--out", default=None, metavar="preds.csv",
                                help="write the CSV here, not over --data nor into the "
                                "model folder (default: standard output)")
    predict_parser.set_defaults(handler=predict_command)
    add_experiment_parser(commands)
    add_tune_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for argument in sys.argv[1:] if argv is None else argv:
        try:  # names are written into UTF-8 files (run.json, the report)
            argument.encode("utf-8")
        except UnicodeEncodeError:  # a file name's bytes in another encoding
            stderr_console().print(Text.assemble(
                ("error:", "red"), f" the argument {argument!a} holds bytes that are not "
                "UTF-8. help: rename the file or folder."))
            return EXIT_USAGE
    args = build_parser().parse_args(argv)
    console = ReaderFreeConsole(soft_wrap=True, highlight=False)
    try:
        return int(args.handler(args, console))
    except INPUT_ERRORS as error:
        stderr_console().print(Text.assemble(("error:", "red"), f" {message(error)}"))
        return EXIT_USAGE
    except KeyboardInterrupt:
        stderr_console().print("interrupted")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
