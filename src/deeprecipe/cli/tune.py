"""``deeprecipe tune``: :func:`deeprecipe.recipe.tune` on the command line (trials in local
processes or on a Dask cluster). Its folder's ``tune.json`` holds the options, so
``--resume`` reads back every finished trial (``trials.sqlite``) and trains only the rest."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from .. import recipe, runconfig, workflow
from .._checks import describe, positive_int
from ..callbacks import Reporter
from ..data.augment import TRANSFORMS
from ..findings import Finding
from ..recipe.loop import AUTO, check_bayes_error
from ..recipe.runners import check_workers
from ..run import folder as runfolder
from ..run.files import TUNE
from . import base

# the options tune shares with run (runconfig.OPTIONS: their flags, help and checks)
SHARED = ("data", "target", "target_file", "arrays", "dev_test_data", "task",
          "drop_missing_target", "missing", "image_size", "bayes_error", "seed", "name",
          "output_dir", "augment")
# What a resumed tune may change: how much to spend and where the trials run.
RESUMABLE = ("budget", "workers", "scheduler")
DEFAULTS = {**{key: getattr(runconfig.RunConfig(), key) for key in SHARED}, "budget": 30,
            "workers": 2, "scheduler": None, "bayes_error": AUTO,
            "augment": True}  # the recipe's augmentation step: the data's defaults


def add_parser(commands: Any) -> None:
    """Add ``tune`` to ``commands`` (``add_subparsers``' result)."""
    parser = commands.add_parser(
        "tune", help="the basic recipe, automated: diagnose, choose the next experiment, repeat",
        description="Run the notes' iterative process by its reasons: train a baseline, "
        "diagnose bias and variance, train the recipe's next candidates in parallel (local "
        "processes or a Dask cluster), until low bias and low variance or the budget is "
        "spent. The dev set chooses; the test error is measured once, on the chosen model. "
        "Writes runs/<name>/ (report.html with the decision trail, trials.sqlite, model/).",
    )
    base.add_options(parser, SHARED, {"augment": (
        "what the recipe's augmentation step does to the training images of image data: "
        f"transforms from {', '.join(TRANSFORMS)}, e.g. flip,rotate; --no-augment: never "
        "augment (default: the data's defaults: crop,rotate, and flip for colour pictures)")})
    parser.add_argument("--budget", type=runconfig.integer, default=argparse.SUPPRESS, metavar="N",
                        help="at most N trials (default: 30; a resumed tune may raise it, "
                        "never lower it)")
    parser.add_argument("--workers", type=runconfig.integer, default=argparse.SUPPRESS, metavar="N",
                        help="local worker processes (default: 2; with --resume, the rest "
                        "runs on them instead of a saved --scheduler)")
    parser.add_argument("--scheduler", default=argparse.SUPPRESS, metavar="ADDRESS",
                        help="run the trials on the Dask cluster at ADDRESS "
                        "(tcp://host:8786) instead of local processes")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing run folder of the same --name")
    parser.add_argument("--resume", metavar="RUN_FOLDER",
                        help="continue an interrupted (or finished) tune; only --budget, "
                        "--workers and --scheduler may be given with it")
    parser.set_defaults(handler=tune_command)


def tune_command(args: argparse.Namespace, console: Console) -> int:
    """Resolve the options, make (or reopen and hold) the run folder, tune, report."""
    from ..recipe.page import write_tune_report  # matplotlib: imported by tune only

    folder = None if args.resume is None else Path(args.resume)
    with contextlib.ExitStack() as cleanup:
        if folder is not None and (folder / runfolder.TUNE_FILE).is_file():  # else refused
            runfolder.hold(folder, "tune --resume")  # while another process works in it
            cleanup.callback(runfolder.release, folder)
        options = resolve_options(args, folder)
        if options["name"] is not None:
            options["name"] = runfolder.check_name(options["name"], "tune")
        # everything is checked, and the data loaded, before a run folder is made
        bayes_error = check_bayes_error("tune", options["bayes_error"])
        positive_int("tune", "--budget", options["budget"])
        check_workers("tune", "--workers", options["workers"])
        for key in ("task", "drop_missing_target", "missing", "seed", "augment"):
            options[key] = base.checked("tune: ", key, options[key])
        if options["arrays"] is not None:
            options["arrays"] = base.checked("tune: ", "arrays", options["arrays"])
        if options["image_size"] is not None:  # a resumed tune's JSON holds a list
            options["image_size"] = base.checked("tune: ", "image_size", options["image_size"])
        with base.live_line(console, f"loading {options['data']}") as loading:
            unit = workflow.progress_unit(options["data"])
            loaded = workflow.load_data(options["data"], options["target"], options["task"],
                                        options["drop_missing_target"], Reporter(loading, unit),
                                        target_file=options["target_file"],
                                        arrays=options["arrays"],
                                        image_size=options["image_size"],
                                        cache=workflow.image_cache(options["output_dir"]),
                                        missing=options["missing"],
                                        dev_test_data=options["dev_test_data"])
        if "augment" in vars(args) and options["augment"] and loaded.image_shape is None:
            raise runconfig.no_images(options["data"])  # asked for: not silently skipped
        splits, notes = workflow.split_data(loaded, options["seed"])
        encoded = workflow.encode(loaded, splits)  # a table's text and missing values
        if encoded is not None:
            splits, notes = encoded.splits, notes + encoded.notes
        if loaded.dropped_missing_target:
            notes.insert(0, Finding("dropped_rows", {"count": loaded.dropped_missing_target}))
        notes[:0] = loaded.notes  # what loading noticed (the file's sets, transposed arrays)
        client = connect(options["scheduler"])  # before the folder: a wrong address leaves none
        if client is not None:
            cleanup.callback(client.close)
        if folder is None:
            stem = Path(options["data"]).stem  # a folder named digits-tune-<time> by default
            folder = runfolder.create(options["output_dir"], options["name"], f"{stem}-tune",
                                      args.overwrite)
            cleanup.callback(runfolder.release, folder)
            options["name"] = folder.name
            console.print(Text(f"run folder: {folder}"))
        else:
            console.print(Text(f"resuming {folder}"))
        for note in notes:
            console.print(Text(f"note: {note}"))
        TUNE.write(folder / runfolder.TUNE_FILE, {"options": options})

        progress = base.ConsoleProgress(console, regression=loaded.task == "regression")
        cleanup.callback(progress.close)
        try:
            with base.terminate_as_interrupt():
                result = recipe.tune(
                    splits, options["budget"], bayes_error, client=client,
                    workers=options["workers"], seed=options["seed"], folder=folder,
                    resume=args.resume is not None, image_shape=loaded.image_shape,
                    task="regression" if loaded.task == "regression" else "classification",
                    callbacks=[progress], in_place=True,
                    classes=loaded.classes,  # the file's labels, so the saved model says them
                    augment=options["augment"],
                    encoder=None if encoded is None else encoded.encoder,
                )
                progress.close()
                paths = write_tune_report(result, folder)
        except KeyboardInterrupt as interrupted:
            progress.close()
            return base.report_interruption(
                isinstance(interrupted, base.Terminated), f"{finished_trials(folder)} finished "
                f"trials are kept in {folder / recipe.DATABASE}", f"tune --resume {folder}")
    console.print(Text(result.summary()))
    base.print_files(console, folder, paths["report"])
    return base.EXIT_OK


def resolve_options(args: argparse.Namespace, resumed: Path | None) -> dict[str, Any]:
    """The tune's options: the defaults with the flags given, or the ``resumed`` tune's own
    with only what may change (budget, workers, scheduler)."""
    given = {key: value for key, value in vars(args).items() if key in DEFAULTS}
    if resumed is None:
        return {**DEFAULTS, **given}
    record = runfolder.read_record(resumed, TUNE, "tune --resume")
    if not isinstance(record.get("options"), dict):
        raise runfolder.RunFolderError(f"tune --resume: {resumed / runfolder.TUNE_FILE} must "
                                       f"hold an 'options' object; received "
                                       f"{describe(record.get('options'))}.")
    options = {**DEFAULTS, **record["options"]}
    refused = [key for key in given if key not in RESUMABLE] + (
        ["overwrite"] if args.overwrite else [])
    if refused:
        flags = ", ".join(map(base.flag, refused))
        raise runconfig.ConfigError(
            f"tune --resume continues a tune with the options it started with; received "
            f"{flags} as well. help: only --budget, --workers and --scheduler may change.")
    if "workers" in given and "scheduler" not in given:
        given["scheduler"] = None  # --workers N: the rest runs on local processes
    if given.get("budget", options["budget"]) < options["budget"]:
        # a smaller budget would replay fewer trials and replace the result with a worse one
        raise runconfig.ConfigError(
            f"tune --resume: --budget must be at least {options['budget']}, the budget this "
            f"tune ran with; received --budget={given['budget']}. help: a resumed tune keeps "
            "every trial it finished; only a larger budget trains more.")
    return {**options, **given}


def connect(address: str | None) -> Any:
    """A ``distributed.Client`` for ``address`` (``None``: local processes)."""
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the installation
        raise runconfig.ConfigError("tune: --scheduler needs the distributed package. help: "
                                    "pip install 'deeprecipe[dask]'.") from None
    try:
        return Client(address, timeout="15s")
    except (OSError, TimeoutError, ValueError) as error:
        raise runconfig.ConfigError(f"tune: no Dask scheduler answered at --scheduler="
                                    f"{address!r} ({error}).") from None


def finished_trials(folder: Path) -> int:
    """Trials of the run in ``folder`` that are done or failed (0 for a new run)."""
    if not (folder / recipe.DATABASE).exists():
        return 0
    with recipe.TrialStore(folder) as store:
        return store.count("done", "failed")
