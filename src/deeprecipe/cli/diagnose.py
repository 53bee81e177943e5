"""``deeprecipe diagnose``: bias/variance from train, dev (and Bayes) error, and advice."""

from __future__ import annotations

import argparse
import json
from functools import partial
from typing import Any

from rich.console import Console
from rich.text import Text

from .. import runconfig
from ..diagnostics import Diagnosis, diagnose, show_error
from ..diagnostics.bias_variance import FRACTION, fraction, is_auto
from .base import EXIT_OK, flag, write_stdout


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "diagnose", help="bias/variance from train and dev error, and the recipe's advice",
        description="Read bias and variance the notes' way: avoidable bias = train − Bayes "
        "error, variance = dev − train error; print the verdict and the basic recipe's next "
        "steps. Errors are fractions (0.01, or 1 for 100%) or percentages with their sign "
        "(1%); a bare number above 1 is refused.",
    )
    parser.add_argument("--train-error", required=True, metavar="ERROR")
    parser.add_argument("--dev-error", required=True, metavar="ERROR")
    parser.add_argument("--bayes-error", default=None, metavar="ERROR",
                        help="Bayes (human-level) error (default: 0, as none is known; "
                        "'auto', the yardstick of reference models, needs the data: "
                        "deeprecipe run fits it)")
    parser.add_argument("--test-error", default=None, metavar="ERROR")
    parser.add_argument("--train-dev-error", default=None, metavar="ERROR",
                        help="two sources: the error on training-distribution rows held out "
                        "of training; variance is then train-dev − train and the data "
                        "mismatch dev − train-dev")
    parser.add_argument("--n-train-dev", type=runconfig.integer, default=None, metavar="N",
                        help="train-dev examples: gives the train-dev error's interval")
    parser.add_argument("--n-dev", type=runconfig.integer, default=None, metavar="N",
                        help="dev examples: gives the dev error's confidence interval")
    parser.add_argument("--n-train", type=runconfig.integer, default=None, metavar="N")
    parser.add_argument("--regression", action="store_true",
                        help="errors are mean squared errors")
    parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    parser.set_defaults(handler=diagnose_command)


def diagnose_command(args: argparse.Namespace, console: Console) -> int:
    regression = args.regression  # errors are fractions by the library's one rule, or MSEs
    parse, constraint = ((runconfig.non_negative, "a mean squared error >= 0") if regression
                         else (fraction, FRACTION))
    errors = {}
    for key in ("train_error", "dev_error", "bayes_error", "test_error", "train_dev_error"):
        if (text := getattr(args, key)) is None:
            continue
        if key == "bayes_error" and is_auto(text):
            raise runconfig.ConfigError(
                "diagnose: --bayes-error auto needs the data: the yardstick is the best dev "
                "error of reference models fitted on the training part, and diagnose has "
                "errors only; received --bayes-error='auto'. help: give the Bayes error you "
                "know (1%), leave it out for 0, or run `deeprecipe run` on the data, which "
                "fits the yardstick.")
        try:
            errors[key] = parse(text)
        except runconfig.BadValue as error:
            raise runconfig.ConfigError(f"diagnose: {flag(key)} must be {constraint}; received "
                                        f"{flag(key)}={text!r}.{error.help}") from None
    diagnosis = diagnose(
        errors["train_error"], errors["dev_error"], errors.get("bayes_error", "auto"),
        test_error=errors.get("test_error"), n_train=args.n_train, n_dev=args.n_dev,
        regression=regression, train_dev_error=errors.get("train_dev_error"),
        n_train_dev=args.n_train_dev,
    )
    if args.json:
        write_stdout(json.dumps(diagnosis.to_dict(), indent=2) + "\n")
    else:
        print_diagnosis(console, diagnosis)
    return EXIT_OK


def print_diagnosis(console: Console, diagnosis: Diagnosis) -> None:
    """The verdict, the two gaps (three with a train-dev error), the recipe's steps in order,
    and the remarks."""
    show = partial(show_error, regression=diagnosis.regression)
    console.print(Text(diagnosis.verdict, style="bold"))
    train_dev = "" if diagnosis.train_dev_error is None else \
        f", train-dev error {show(diagnosis.train_dev_error)}"
    console.print(f"train error {show(diagnosis.train_error)}{train_dev}, dev error "
                  f"{show(diagnosis.dev_error)}, Bayes error {show(diagnosis.bayes_error)}")
    held = "dev" if diagnosis.train_dev_error is None else "train-dev"
    mismatch = "" if diagnosis.data_mismatch is None else \
        f", data mismatch {show(diagnosis.data_mismatch)} (dev − train-dev)"
    console.print(f"avoidable bias {show(diagnosis.avoidable_bias)} (train − Bayes), variance "
                  f"{show(diagnosis.variance)} ({held} − train){mismatch}")
    if diagnosis.dev_interval is not None:
        low, high = diagnosis.dev_interval
        console.print(f"{held} error 95% interval: {show(low)}–{show(high)}")
    console.print("next steps (the basic recipe, in order):")
    for number, advice in enumerate(diagnosis.advice, start=1):
        console.print(Text(f"  {number}. {advice}"))
    for remark in diagnosis.remarks:
        console.print(Text(f"note: {remark}"))
