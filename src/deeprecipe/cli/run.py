"""``deeprecipe run``: :func:`deeprecipe.workflow.run` on the command line; Ctrl-C and SIGTERM
end in a checkpoint and how to resume (exit code 130 or 143)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import runconfig, workflow
from ..diagnostics import show_error
from ..diagnostics.bias_variance import GIVEN, YARDSTICK
from ..findings import Advice
from ..run import folder as runfolder
from ..run.result import RunResult
from . import base


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "run", help="the whole workflow: split, check, train, diagnose, report",
        description="Split the data (the notes' sizes), check that the parts share one "
        "distribution, standardize, build and gradient-check the network, train it with "
        "early stopping, check it again, diagnose bias and variance, and write "
        "runs/<name>/ (report.html, summary.json, plots, model/). Every option is also a "
        "key of the --config TOML file; flags override the file.",
    )
    parser.add_argument("--config", metavar="run.toml",
                        help="read the options from a TOML file (its relative paths are "
                        "read from its folder)")
    parser.add_argument("--resume", metavar="RUN_FOLDER",
                        help="continue an interrupted run (its own options; no other flags)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing run folder of the same --name")
    base.add_options(parser, runconfig.OPTIONS)
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, console: Console) -> int:
    """Resolve the config, make (or reopen) the run folder, run, print the summary."""
    flags = {key: value for key, value in vars(args).items() if key in runconfig.OPTIONS}
    if args.resume is not None:
        if flags or args.config is not None or args.overwrite:
            given = [base.flag(key) for key in flags]
            given += [f"--{key}" for key in ("config", "overwrite") if getattr(args, key)]
            raise runconfig.ConfigError(
                f"--resume continues a run with the options it started with; received "
                f"{', '.join(given)} as well. help: start a new run to change options.")
        folder = Path(args.resume)
        point = runfolder.resume_point(folder)
        runfolder.hold(folder, "--resume")  # refused while another process works in it
        config, resume = point.config, point
        epoch = 0 if point.state is None else point.state.epoch
        console.print(Text(f"resuming {folder} after epoch {epoch}"))
    else:
        config = runconfig.resolve(args.config, flags)
        runconfig.check_data(config.data, config.target, config.augment, config.task,
                             target_file=config.target_file, arrays=config.arrays,
                             dev_test_data=config.dev_test_data)
        folder = runfolder.create(config.output_dir, config.name, config.data, args.overwrite)
        config = dataclasses.replace(config, name=folder.name)  # run.json names its folder
        resume = None
    # a new run names its folder once it is kept: one that fails on its input leaves none
    progress = base.ConsoleProgress(console, new_folder=None if resume is not None else folder)
    try:
        with base.terminate_as_interrupt():
            result = workflow.run(config, folder, [progress], resume=resume)
    except workflow.RunInterrupted as stop:
        progress.close()  # before printing: a live bar would redraw over the message
        return base.report_interruption(
            isinstance(stop.__cause__, base.Terminated),
            f"checkpoint after epoch {stop.epoch} written to {stop.checkpoint}",
            f"run --resume {stop.folder}")
    finally:  # the live display must stop however the run ends
        progress.close()
        runfolder.release(folder)
    print_summary(console, result, folder)
    failed = failed_checks(result)
    for check in failed:
        base.stderr_console().print(Text.assemble(("check failed:", "red"), f" {check}"))
    return base.EXIT_FAILED_CHECK if failed else base.EXIT_OK


def failed_checks(result: RunResult) -> list[str]:
    """The checks that fail the command (exit code 1): gradient checks, and divergence."""
    failed = [f"gradient check {point}: {report.reading()}"
              for point, report in result.gradchecks.items() if report.failed]
    if result.stop_reason == "diverged":  # how, when known: the Divergence's first line
        divergence = None if result.diagnosis is None else result.diagnosis.divergence
        failed.append("training diverged" if divergence is None else divergence.headline)
    return failed


def print_summary(console: Console, result: RunResult, folder: Path) -> None:
    """The errors per split, the verdicts, the next steps and where the files are."""
    regression = result.data.task == "regression"
    diagnosis = result.diagnosis
    title = f"{result.data.name}: {diagnosis.verdict}" if diagnosis else result.data.name
    table = Table(title=title, title_justify="left")
    table.add_column("split")
    table.add_column("examples", justify="right")
    table.add_column("MSE" if regression else "error", justify="right")
    for name, size in result.data.split_sizes.items():
        error = result.errors.get(name)
        shown = "–" if error is None else show_error(error, regression)
        table.add_row(name, f"{size:,}", shown)
    console.print(table)
    for line in summary_lines(result, regression):
        console.print(Text(line))
    base.print_files(console, folder, folder / "report.html")


def top_advice(advice: list[Advice], count: int = 3) -> list[Advice]:
    """The first ``count`` steps, and ``match_training_data`` when it comes later: a data
    mismatch is said whatever the bias and variance steps before it."""
    return advice[:count] + [a for a in advice[count:] if a.action == "match_training_data"]


def summary_lines(result: RunResult, regression: bool) -> list[str]:
    """Training, gradient checks, the yardstick, the diagnosis and the recipe's next steps,
    one per line."""
    kept = "" if result.best_epoch is None else f", kept epoch {result.best_epoch + 1}"
    lines = [f"training: {result.epochs_run} epochs ({result.stop_reason}){kept}"]
    if result.gradchecks:
        # the verdict beside the block it comes from; a check with no verdict shows the
        # verdict alone (its blocks are noise: the report lists them)
        checks = ", ".join(f"{point} " + (
            report.reading() if report.passed or report.failed else report.verdict)
            for point, report in result.gradchecks.items())
        lines.append(f"gradient check: {checks}")
    if result.flow is not None:
        lines.append(f"gradient flow at initialization: {result.flow.verdict}")
    if result.yardstick is not None:
        lines.append(result.yardstick.headline())
    diagnosis = result.diagnosis
    if diagnosis is not None:
        bias = show_error(diagnosis.avoidable_bias, regression)
        variance = show_error(diagnosis.variance, regression)
        if diagnosis.bias_source == YARDSTICK:  # the Bayes error is at most the yardstick
            shown = "" if diagnosis.finding("bias_not_shown") is None else \
                ": bias not shown to be avoidable"
            gap = f"train − yardstick {bias}{shown}"
        else:
            against = "the Bayes error given" if diagnosis.bias_source == GIVEN else \
                "a Bayes error of 0"
            gap = f"avoidable bias {bias} against {against}"
        mismatch = "" if diagnosis.data_mismatch is None else \
            f", data mismatch {show_error(diagnosis.data_mismatch, regression)}"
        reading = "no bias/variance verdict" if diagnosis.diverged else \
            f"{gap}, variance {variance}{mismatch}"
        lines.append(f"diagnosis: {diagnosis.verdict} ({reading})")
        lines += [f"  next: {advice}" for advice in top_advice(diagnosis.advice)]
    lines += [f"note: {note}" for note in result.notes]
    return lines
