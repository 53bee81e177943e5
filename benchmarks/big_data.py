"""Big data: ``deeprecipe run --epochs 1`` on a 1M-row CSV and on 10M rows as Parquet and
``.npz``, beside pandas, pyarrow and NumPy reading the same files, measured in the same run.

The data
--------
Seeded and synthetic: 20 float32 features, each with its own mean and scale (so
standardizing matters), and a label among 5 words (``alpha`` … ``echo``) drawn from the
softmax of a fixed random one-hidden-layer tanh network of the standardized features. It is
a learnable, nonlinear problem: for seed 0 the Bayes classifier (the argmax of that
network's logits) errs on 12.8% of the first 1,000,000 rows, a logistic regression fitted
on 50,000 of them on 27% of the next 50,000. Rows come in chunks of 1,000,000, chunk ``k``
drawn from ``np.random.default_rng([seed, 1, k])``, so a file of ``n`` rows holds the first
``n`` rows of the seed's stream whatever its format. Generation runs NumPy's BLAS on one
thread (faster for these thin products than two threads that compete).

* **CSV** (``--csv-rows``, default 1,000,000; ≈ 200 MB): the features as float32 text
  (shortest round-trip form, e.g. ``-12.345678``), the label as text, unquoted; written by
  ``pyarrow.csv``.
* **Parquet** (``--rows``, default 10,000,000): the same columns (features float32, the label
  a string column), one row group per 1,000,000 rows, pyarrow's default (snappy) compression.
* **.npz** (``--rows``): ``X`` float32 ``(n, 20)`` C order and ``y`` int64 class indices,
  uncompressed, written member by member (never holding all of ``X``).

The files are cached in ``--data-dir`` (default ``/tmp/deeprecipe-big-data``) under names
that say their size and seed, and reused by later runs; ``--generate-only`` writes them and
stops. Delete the folder when done (``--delete-data`` does it at the end of a run).

What is measured
----------------
Every process below runs on its own (``subprocess``), one after another, each file having
been read once before so that every reader finds it in the page cache:

* ``python -m deeprecipe run --data FILE [--target label] --epochs 1 --seed S`` with every
  other option at its default (in a fresh ``runs/`` folder under ``--data-dir``). Its steps'
  seconds come from the run folder's ``summary.json`` (``seconds``; the report step is
  written inside itself, so it is counted with interpreter start and exit as "rest of the
  process": the process's wall time minus its steps). The training epoch is
  ``history["train_time"][0]`` (the training steps alone, as ``train_throughput.py``
  counts them); the rest of the ``train`` step (the epoch's evaluation, checkpoints) is
  shown beside it.
* The references: ``pandas.read_csv`` and ``pyarrow.csv.read_csv`` (CSV),
  ``pandas.read_parquet`` and ``pyarrow.parquet.read_table`` (Parquet), ``numpy.load``
  reading both members (``.npz``): the time of the read call alone (imports excluded, as
  the run's loading step excludes them).
* The **training reference** (once): ``train_throughput.py``'s way, in memory, for the same
  network ``deeprecipe run`` builds with its defaults (20 → 128 ReLU → dropout 0.8 → 64 ReLU
  → 5 softmax, L2 1.0, Adam 1e-3, batch 64, float32): ``Sequential.fit`` on
  ``--reference-rows`` (default a tenth of ``--rows``: 1,000,000) standardized rows of the
  same stream, one warm-up epoch and then ``--reference-epochs`` (10) timed ones, timed together as
  ``train_throughput.py`` times a round (the samples of every timed epoch over the sum of
  their ``history["train_time"]``): as many samples as the run's one epoch.

Both sides take their least-disturbed round, as ``train_throughput.py`` does: the training
figure of a file is its run's fastest training epoch over the rounds, and the reference's is
its fastest round, each a stretch of about 30 s. (Until 2026-12-05 the reference was its
single fastest epoch of 0.3 s out of every round's five, against the run's one 30 s epoch
of its fastest round by wall time, on a machine whose in-memory training moved between
264,932 and 332,690 samples/s from one minute to the next: the least-disturbed 0.3 s of
fifteen reads higher than a 30 s stretch. The same run on the same rows trained at 245,711
to 306,320 samples/s from one process to the next, Parquet or ``.npz`` alike.)

Peak RSS is each process's ``ru_maxrss`` from ``os.wait4`` (its whole life: interpreter,
imports and work). To show where it is reached, the run's RSS is also sampled every 0.05 s
(``psutil``) and each sample counted in the step under way (a step ends when the CLI prints
its ``✓`` line; the loading step's peak includes the interpreter's start).

``--repeats N`` makes N rounds (a round: each file's run and readers, then the training
reference, so that a burst of load from other processes hits all alike); the least time,
the largest peak RSS and the fastest round of each run are reported.

The goals (issue 15), each printed PASS or FAIL:

* CSV: loading (the run's ``data`` step) ≤ 2× ``pandas.read_csv`` of the same file; peak
  RSS ≤ 1 GB (10^9 bytes).
* Parquet and ``.npz``: peak RSS ≤ 2 GB; everything but training (the process's wall time
  minus the training epoch) ≤ 0.5× the training epoch; training samples/s ≥ 0.9× the
  reference's.

They are stated for 1,000,000 CSV rows and 10,000,000 rows; at other sizes (``--quick``,
``--rows``) the verdicts are printed with the size they were measured at.

Running
-------
From the repository root, with the ``bench`` extra (pandas and psutil: ``pip install -e
'.[bench]'``). The full size needs a quiet machine (it takes the cores) with about 2 GB of
free disk under ``--data-dir`` and 3 GB of free memory::

    .venv/bin/python benchmarks/big_data.py --generate-only   # the three files (≈ 1 min)
    .venv/bin/python benchmarks/big_data.py                   # 1M-row CSV, 10M rows (minutes)
    .venv/bin/python benchmarks/big_data.py --quick           # 100,000 / 1,000,000 rows
    .venv/bin/python benchmarks/big_data.py --formats csv --csv-rows 300000 --repeats 3
    .venv/bin/python benchmarks/big_data.py --quick --blas-threads 1   # on a busy machine

On a busy machine add ``--blas-threads 1``: OpenBLAS's threads that wait for a core slow a
small network's training far more than the load explains (measured beside 3–4 other jobs on
2 cores: the training reference at 26,858 samples/s with 2 threads, 241,455 with 1), and
not always alike in two processes, so the training ratio means nothing there.

The exit status is 1 when a goal fails (or a process fails).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:  # imported where used: a reading child imports only what it measures
    import pyarrow as pa

FEATURES = 20
CLASSES = ("alpha", "bravo", "charlie", "delta", "echo")
TARGET = "label"
COLUMNS = [*(f"x{j}" for j in range(FEATURES)), TARGET]
HIDDEN_UNITS = 32  # of the network that draws the labels
CHUNK_ROWS = 1_000_000
FORMATS = ("csv", "parquet", "npz")
GOAL_CSV_ROWS, GOAL_ROWS = 1_000_000, 10_000_000
CSV_RSS, BIG_RSS = 1e9, 2e9  # bytes
LOAD_RATIO, REST_RATIO, TRAINING_RATIO = 2.0, 0.5, 0.9
MB = 1e6
POLL_SECONDS = 0.05
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
STEP_DONE = "✓"  # how the CLI's line at the end of each step starts (output not a terminal)


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Teacher:
    """The seed's feature means and scales, and the network that draws the labels (float32)."""

    mean: np.ndarray  # (FEATURES,)
    scale: np.ndarray  # (FEATURES,)
    W1: np.ndarray  # (FEATURES, HIDDEN_UNITS)
    W2: np.ndarray  # (HIDDEN_UNITS, len(CLASSES))

    @classmethod
    def of(cls, seed: int) -> Teacher:
        rng = np.random.default_rng([seed, 0])
        drawn = (
            rng.uniform(-50.0, 50.0, FEATURES),
            np.exp(rng.uniform(np.log(0.1), np.log(100.0), FEATURES)),
            rng.standard_normal((FEATURES, HIDDEN_UNITS)) * np.sqrt(4.0 / FEATURES),
            rng.standard_normal((HIDDEN_UNITS, len(CLASSES))) * 1.5,
        )
        return cls(*(values.astype(np.float32) for values in drawn))

    def chunk(self, seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``k·CHUNK_ROWS …`` of the stream: ``X`` float32 ``(CHUNK_ROWS, FEATURES)``
        and ``y`` int64 class indices."""
        rng = np.random.default_rng([seed, 1, k])
        X = rng.standard_normal((CHUNK_ROWS, FEATURES), dtype=np.float32)
        logits = np.tanh(X @ self.W1) @ self.W2
        y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)  # a softmax draw
        X *= self.scale  # from standardized features to the file's units, in place
        X += self.mean
        return X, y.astype(np.int64)


def rows_of(rows: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The first ``rows`` rows of the seed's stream, a chunk at a time."""
    teacher = Teacher.of(seed)
    for k, start in enumerate(range(0, rows, CHUNK_ROWS)):
        X, y = teacher.chunk(seed, k)
        stop = min(CHUNK_ROWS, rows - start)
        yield X[:stop], y[:stop]


def arrow_table(X: np.ndarray, y: np.ndarray) -> pa.Table:
    """The CSV and Parquet columns: ``x0`` … ``x19`` float32 and the label as text."""
    import pyarrow as pa

    columns = {name: pa.array(X[:, j]) for j, name in enumerate(COLUMNS[:-1])}
    labels = pa.DictionaryArray.from_arrays(pa.array(y.astype(np.int32)), pa.array(CLASSES))
    columns[TARGET] = labels.cast(pa.string())
    return pa.table(columns)


def write_csv(path: Path, rows: int, seed: int) -> None:
    import pyarrow.csv as pcsv

    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with path.open("wb") as file:
        file.write((",".join(COLUMNS) + "\n").encode())  # pyarrow would quote the names
        for X, y in rows_of(rows, seed):
            pcsv.write_csv(arrow_table(X, y), file, write_options=options)


def write_parquet(path: Path, rows: int, seed: int) -> None:
    import pyarrow.parquet as pq

    writer = None
    for X, y in rows_of(rows, seed):
        table = arrow_table(X, y)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=CHUNK_ROWS)
    if writer is not None:
        writer.close()


def write_npz(path: Path, rows: int, seed: int) -> None:
    """``np.savez``'s layout (uncompressed ``X.npy`` and ``y.npy``), written chunk by chunk."""
    labels = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        with archive.open("X.npy", "w", force_zip64=True) as member:
            _npy_header(member, np.float32, (rows, FEATURES))
            for X, y in rows_of(rows, seed):
                member.write(X.data)
                labels.append(y)
        with archive.open("y.npy", "w", force_zip64=True) as member:
            _npy_header(member, np.int64, (rows,))
            for y in labels:
                member.write(y.data)


def _npy_header(member: IO[bytes], dtype: type, shape: tuple[int, ...]) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": shape}
    np.lib.format.write_array_header_1_0(member, header)


WRITERS: dict[str, Callable[[Path, int, int], None]] = {
    "csv": write_csv, "parquet": write_parquet, "npz": write_npz,
}


def data_file(folder: Path, fmt: str, rows: int, seed: int) -> tuple[Path, float | None]:
    """The cached file (written first if missing) and the seconds writing it took (None:
    it was there)."""
    path = folder / f"big_{rows}x{FEATURES}_seed{seed}.{fmt}"
    if path.exists():
        return path, None
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # a write cut short is never reused
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # faster for these thin products
        WRITERS[fmt](partial, rows, seed)
    os.replace(partial, path)
    return path, time.perf_counter() - start


def warm(path: Path) -> None:
    """Read the file once, so that every process finds it in the page cache (as long as
    the machine's memory holds it)."""
    with path.open("rb") as file:
        while file.read(1 << 24):
            pass


# --- the processes measured -----------------------------------------------------------------


@dataclass
class Process:
    """One finished subprocess: wall seconds, peak RSS in bytes, exit status, output, and the
    sampled peak RSS of each stretch between two of the CLI's step lines."""

    wall: float
    peak_rss: int
    returncode: int
    output: str
    stretch_rss: list[int]

    def failure(self) -> str:
        tail = [line for line in self.output.splitlines() if line.strip()][-3:]
        return f"exit status {self.returncode}: " + " | ".join(tail)

    def reported(self) -> dict[str, float]:
        """The JSON object a child prints on its last line."""
        return json.loads(self.output.strip().splitlines()[-1])


def measured(command: Sequence[str], log: Path) -> Process:
    """Run ``command`` to its end, its output in ``log``; peak RSS from ``os.wait4``.

    Every :data:`POLL_SECONDS` the child's RSS is sampled (``psutil``) and counted in the
    stretch of the run it falls in: stretch ``k`` ends when the ``k+1``-th line starting
    with :data:`STEP_DONE` appears in the output (the CLI prints one as each step ends)."""
    stretch_rss: list[int] = []
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines appear as steps end
    with log.open("w") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                 env=environment)
        watched = psutil.Process(child.pid)
        while not (ended := os.wait4(child.pid, os.WNOHANG))[0]:
            stretch = sum(line.startswith(STEP_DONE)
                          for line in log.read_text(errors="replace").splitlines())
            stretch_rss += [0] * (stretch + 1 - len(stretch_rss))
            with contextlib.suppress(psutil.Error):  # it may end between the two calls
                stretch_rss[stretch] = max(stretch_rss[stretch], watched.memory_info().rss)
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - start
    _, status, usage = ended
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Process(wall, usage.ru_maxrss * 1024, child.returncode, log.read_text(),
                   stretch_rss)


def child_command(*arguments: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *arguments]


READERS = {  # the references that read each format, as module.function
    "csv": ("pandas.read_csv", "pyarrow.csv.read_csv"),
    "parquet": ("pandas.read_parquet", "pyarrow.parquet.read_table"),
    "npz": ("numpy.load",),
}


def read_file(reader: str, path: Path) -> None:
    """``big_data.py --child-read READER FILE``: the seconds of one read of ``path`` (the
    module is imported before the clock starts, as the run's loading step excludes imports)."""
    module, _, function = reader.rpartition(".")
    read = getattr(importlib.import_module(module), function)
    start = time.perf_counter()
    result = read(path)
    if isinstance(result, np.lib.npyio.NpzFile):  # np.load reads an archive's members lazily
        with result:
            for key in result.files:
                result[key]
    print(json.dumps({"seconds": time.perf_counter() - start}))


def train_reference(rows: int, epochs: int, seed: int) -> None:
    """``big_data.py --child-train``: the run's default network trained in memory, timed as
    ``train_throughput.py`` times ``fit`` (``history["train_time"]``, one warm-up epoch)."""
    from deeprecipe import pipeline, runconfig

    chunks = list(rows_of(rows, seed))
    X = np.concatenate([X for X, _ in chunks])
    y = np.concatenate([y for _, y in chunks])
    X = np.ascontiguousarray((X - X.mean(axis=0)) / X.std(axis=0), dtype=np.float32)
    config = runconfig.RunConfig(seed=seed)
    model = pipeline.build_model(
        FEATURES, "multiclass", len(CLASSES), config.hidden, activation=config.activation,
        init=config.init, keep_prob=config.keep_probs(), l2=config.l2, l1=config.l1,
        seed=config.seed)
    history = model.fit(X, y, epochs=1 + epochs, batch_size=config.batch_size,
                        optimizer=config.optimizer, learning_rate=config.learning_rate,
                        seed=config.seed)
    timed = history["train_time"][1:]
    print(json.dumps({"samples_per_s": rows * len(timed) / sum(timed)}))


# --- one file: the run and its references ---------------------------------------------------


@dataclass
class RunFigures:
    """What ``deeprecipe run`` reported (its ``summary.json``) and how its process ran."""

    process: Process
    seconds: dict[str, float] = field(default_factory=dict)  # per step
    train_rows: int = 0
    epoch: float = float("nan")  # the training steps of the one epoch

    @property
    def ok(self) -> bool:
        return self.process.returncode == 0 and bool(self.seconds)

    @property
    def rest(self) -> float:
        """Seconds of the process outside its recorded steps (start, report, exit)."""
        return self.process.wall - sum(self.seconds.values())

    @property
    def samples_per_s(self) -> float:
        return self.train_rows / self.epoch


def run_deeprecipe(path: Path, fmt: str, runs: Path, seed: int, round_: int) -> RunFigures:
    name = f"{fmt}-{round_}"
    command = [sys.executable, "-m", "deeprecipe", "run", "--data", str(path), "--epochs", "1",
               "--seed", str(seed), "--output-dir", str(runs), "--name", name, "--overwrite"]
    if fmt != "npz":
        command += ["--target", TARGET]
    figures = RunFigures(measured(command, runs / f"{name}.log"))
    summary_file = runs / name / "summary.json"
    if figures.process.returncode == 0 and summary_file.exists():
        summary = json.loads(summary_file.read_text())
        figures.seconds = summary["seconds"]
        figures.train_rows = summary["data"]["split_sizes"]["train"]
        figures.epoch = summary["history"]["train_time"][0]
    shutil.rmtree(runs / name, ignore_errors=True)  # the saved model and report: not needed
    return figures


@dataclass
class FileFigures:
    """The measurements on one file over every round."""

    fmt: str
    path: Path
    rows: int
    runs: list[RunFigures] = field(default_factory=list)
    reads: dict[str, list[Process]] = field(default_factory=dict)

    @property
    def x_bytes(self) -> int:
        """The size of the feature matrix as float32."""
        return self.rows * FEATURES * 4

    @property
    def run(self) -> RunFigures:
        """The fastest round that completed (else the last one)."""
        done = [run for run in self.runs if run.ok]
        return min(done, key=lambda run: run.process.wall) if done else self.runs[-1]

    @property
    def samples_per_s(self) -> float:
        """The fastest training epoch of the rounds that completed."""
        return max((run.samples_per_s for run in self.runs if run.ok), default=float("nan"))

    @property
    def run_rss(self) -> int:
        return max(run.process.peak_rss for run in self.runs)

    def read_seconds(self, reader: str) -> float:
        return min(process.reported()["seconds"] for process in self.reads[reader])

    def read_rss(self, reader: str) -> int:
        return max(process.peak_rss for process in self.reads[reader])


def measure_round(figures: FileFigures, runs: Path, seed: int, round_: int) -> None:
    """One round on one file: the run, then each reader."""
    figures.runs.append(run_deeprecipe(figures.path, figures.fmt, runs, seed, round_))
    for reader, processes in figures.reads.items():
        process = measured(child_command("--child-read", reader, str(figures.path)),
                           runs / f"{figures.fmt}-{reader}.log")
        if process.returncode != 0:
            raise RuntimeError(f"{reader} on {figures.path}: {process.failure()}")
        processes.append(process)


def measure_reference(runs: Path, args: argparse.Namespace) -> float:
    """Samples/s of the training reference (its timed epochs together)."""
    process = measured(child_command(
        "--child-train", "--reference-rows", str(args.reference_rows),
        "--reference-epochs", str(args.reference_epochs), "--seed", str(args.seed)),
        runs / "reference.log")
    if process.returncode != 0:
        raise RuntimeError(f"the training reference: {process.failure()}")
    return float(process.reported()["samples_per_s"])


# --- printing and goals ---------------------------------------------------------------------


STEP_NAMES = {"data": "loading", "split": "splitting", "compare": "distribution check",
              "standardize": "standardizing", "model": "building the network",
              "gradcheck_init": "gradient check at init", "train": "train step",
              "gradcheck_trained": "gradient check after training",
              "evaluate": "measuring errors"}


def describe(figures: FileFigures) -> str:
    size = figures.path.stat().st_size / MB
    label = {"csv": "CSV, text label", "parquet": "Parquet, text label",
             "npz": ".npz, float32 X, int64 y"}[figures.fmt]
    return f"{figures.rows:,} × {FEATURES} {label} ({size:,.0f} MB)"


def print_file(figures: FileFigures) -> None:
    run = figures.run
    print(f"\n## {figures.fmt}: {describe(figures)}")
    if not run.ok:
        print(f"  deeprecipe run FAILED ({run.process.failure()})")
    else:
        print(f"  deeprecipe run --epochs 1: {run.process.wall:.1f} s wall, peak RSS "
              f"{figures.run_rss / MB:,.0f} MB ({figures.run_rss / figures.x_bytes:.1f}× X as "
              f"float32, {figures.x_bytes / MB:,.0f} MB)")
        print(f"    {'step':32s} {'seconds':>7s}  peak RSS (sampled; loading's includes "
              "the start)")
        rss = run.process.stretch_rss
        for k, (step, seconds) in enumerate(run.seconds.items()):
            print(f"    {STEP_NAMES.get(step, step):32s} {seconds:7.2f}  {_mb(rss, k)}")
            if step == "train":
                print(f"      {'training steps (one epoch)':30s} {run.epoch:7.2f}  "
                      f"({run.samples_per_s:,.0f} samples/s on {run.train_rows:,} rows)")
                print(f"      {'evaluation, checkpoints':30s} {seconds - run.epoch:7.2f}")
        print(f"    {'rest (start, report, exit)':32s} {run.rest:7.2f}  report: "
              f"{_mb(rss, len(run.seconds))}")
    for reader in figures.reads:
        print(f"  {reader:28s} {figures.read_seconds(reader):7.2f} s, peak RSS "
              f"{figures.read_rss(reader) / MB:,.0f} MB")


def _mb(stretch_rss: list[int], k: int) -> str:
    """A stretch's sampled peak; "-" for one shorter than the poll (never sampled)."""
    return f"{stretch_rss[k] / MB:,.0f} MB" if k < len(stretch_rss) and stretch_rss[k] else "-"


@dataclass
class Goal:
    fmt: str
    text: str
    passed: bool
    reading: str

    def line(self) -> str:
        return f"  {'PASS' if self.passed else 'FAIL'} {self.fmt}: {self.text}: {self.reading}"


def goals(figures: FileFigures, reference: float | None) -> list[Goal]:
    run, fmt = figures.run, figures.fmt
    if not run.ok:
        return [Goal(fmt, "deeprecipe run completes", False, run.process.failure())]
    if fmt == "csv":
        pandas = figures.read_seconds("pandas.read_csv")
        load = run.seconds["data"]
        return [
            Goal(fmt, f"loading ≤ {LOAD_RATIO:g}× pandas.read_csv", load <= LOAD_RATIO * pandas,
                 f"{load:.2f} s / {pandas:.2f} s = {load / pandas:.2f}×"),
            Goal(fmt, f"peak RSS ≤ {CSV_RSS / 1e9:g} GB", figures.run_rss <= CSV_RSS,
                 f"{figures.run_rss / MB:,.0f} MB"),
        ]
    rest = run.process.wall - run.epoch
    found = [
        Goal(fmt, f"peak RSS ≤ {BIG_RSS / 1e9:g} GB", figures.run_rss <= BIG_RSS,
             f"{figures.run_rss / MB:,.0f} MB"),
        Goal(fmt, f"everything but training ≤ {REST_RATIO:g}× the training epoch",
             rest <= REST_RATIO * run.epoch,
             f"{rest:.1f} s / {run.epoch:.1f} s = {rest / run.epoch:.2f}×"),
    ]
    if reference is not None:
        ratio = figures.samples_per_s / reference
        found.append(Goal(fmt, f"training samples/s ≥ {TRAINING_RATIO:g}× the in-memory "
                          "reference", ratio >= TRAINING_RATIO,
                          f"{figures.samples_per_s:,.0f} / {reference:,.0f} = {ratio:.2f}×"))
    return found


def markdown_table(files: list[FileFigures], reference: float | None) -> str:
    """The README's table: one block of rows per file, the goals beside their figures."""
    lines = ["| data | measure | deeprecipe run | reference (same run) | goal |",
             "|---|---|---|---|---|"]
    for figures in files:
        run, big = figures.run, figures.fmt != "csv"
        reads = ", ".join(f"{reader} {figures.read_seconds(reader):.2f} s"
                          for reader in figures.reads)
        rss = ", ".join(f"{reader} {figures.read_rss(reader) / MB:,.0f} MB"
                        for reader in figures.reads)
        if not run.ok:
            lines.append(_row(describe(figures), "run", "failed", reads, ""))
            continue
        steps = " / ".join(f"{run.seconds.get(step, 0.0):.1f}" for step in
                           ("data", "split", "compare", "standardize", "evaluate"))
        rest = run.process.wall - run.epoch
        rows = [
            ("loading", f"{run.seconds['data']:.2f} s", reads,
             "" if big else f"≤ {LOAD_RATIO:g}× pandas.read_csv"),
            ("peak RSS", f"{figures.run_rss / MB:,.0f} MB "
             f"({figures.run_rss / figures.x_bytes:.1f}× X)", rss,
             f"≤ {(BIG_RSS if big else CSV_RSS) / 1e9:g} GB"),
            ("loading / splitting / distribution check / standardizing / measuring",
             f"{steps} s", "", ""),
            ("everything but training / one training epoch",
             f"{rest:.1f} / {run.epoch:.1f} s = {rest / run.epoch:.2f}×", "",
             f"≤ {REST_RATIO:g}×" if big else ""),
        ]
        if big and reference is not None:
            rows.append(("training samples/s (fastest epoch)", f"{figures.samples_per_s:,.0f}",
                         f"in memory {reference:,.0f}", f"≥ {TRAINING_RATIO:g}× the reference"))
        for k, (measure, figure, beside, goal) in enumerate(rows):
            first = describe(figures) if k == 0 else ""
            lines.append(_row(first, measure, figure, beside, goal))
    return "\n".join(lines)


def _row(*cells: str) -> str:
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


# --- the command ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma-separated, from {','.join(FORMATS)}")
    parser.add_argument("--csv-rows", type=int, default=None,
                        help=f"rows of the CSV file (default {GOAL_CSV_ROWS:,}; --quick 100,000)")
    parser.add_argument("--rows", type=int, default=None,
                        help=f"rows of the Parquet and .npz files (default {GOAL_ROWS:,}; "
                        "--quick 1,000,000)")
    parser.add_argument("--quick", action="store_true",
                        help="100,000 CSV rows and 1,000,000 Parquet/.npz rows")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every process")
    parser.add_argument("--reference-rows", type=int, default=None,
                        help="rows of the training reference (default: a tenth of --rows)")
    parser.add_argument("--reference-epochs", type=int, default=10)
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="BLAS threads of every measured process (default: as inherited)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/deeprecipe-big-data"))
    parser.add_argument("--generate-only", action="store_true",
                        help="write (or find) the data files and stop")
    parser.add_argument("--delete-data", action="store_true",
                        help="delete --data-dir at the end")
    parser.add_argument("--child-read", nargs=2, metavar=("READER", "FILE"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-train", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = sorted(set(args.formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s) {unknown}; choose from {list(FORMATS)}")
    if args.csv_rows is None:
        args.csv_rows = 100_000 if args.quick else GOAL_CSV_ROWS
    if args.rows is None:
        args.rows = 1_000_000 if args.quick else GOAL_ROWS
    if args.reference_rows is None:  # ten epochs: as many samples as the run's one
        args.reference_rows = max(1, args.rows // 10)
    for key in ("csv_rows", "rows", "repeats", "reference_rows", "reference_epochs",
                "blas_threads"):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be at least 1")
    return args


def child(args: argparse.Namespace) -> int:
    if args.child_train:
        train_reference(args.reference_rows, args.reference_epochs, args.seed)
    else:
        reader, path = args.child_read
        read_file(reader, Path(path))
    return 0


def machine() -> str:
    """The CPU model, the CPUs this process may use, memory, BLAS threads and the load."""
    cpuinfo = Path("/proc/cpuinfo")
    models = [line.split(":", 1)[1].strip() for line in
              (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
              if line.startswith("model name")]
    threads = ", ".join(f"{key}={os.environ.get(key, '(unset)')}" for key in BLAS_THREADS)
    return (f"{models[0] if models else 'CPU'}, {len(os.sched_getaffinity(0))} CPUs, "
            f"{psutil.virtual_memory().total / 1e9:.0f} GB; {threads}; "
            f"load average {load_average()}")


def load_average() -> str:
    return ", ".join(f"{load:.1f}" for load in os.getloadavg())


def write_files(args: argparse.Namespace, sizes: dict[str, int]) -> dict[str, Path]:
    """Each format's data file, written unless cached; says which."""
    paths = {}
    for fmt, rows in sizes.items():
        paths[fmt], seconds = data_file(args.data_dir, fmt, rows, args.seed)
        made = "cached" if seconds is None else f"generated in {seconds:.1f} s"
        print(f"  {paths[fmt]} ({paths[fmt].stat().st_size / MB:,.0f} MB, {made})", flush=True)
    return paths


def measure_all(args: argparse.Namespace, paths: dict[str, Path], sizes: dict[str, int]
                ) -> tuple[list[FileFigures], list[float]]:
    """Every round: each file's run and readers, then the training reference (when a
    Parquet or .npz file is measured)."""
    runs = args.data_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    files = [FileFigures(fmt, paths[fmt], rows, reads={name: [] for name in READERS[fmt]})
             for fmt, rows in sizes.items()]
    for figures in files:
        warm(figures.path)
    references = []  # samples/s, one per round, measured beside the runs it is compared with
    for round_ in range(args.repeats):
        for figures in files:
            measure_round(figures, runs, args.seed, round_)
        if any(fmt != "csv" for fmt in sizes):
            references.append(measure_reference(runs, args))
    return files, references


def print_results(args: argparse.Namespace, files: list[FileFigures],
                  references: list[float]) -> bool:
    """The figures, the goals and the table; True when every goal passed."""
    reference = max(references) if references else None
    for figures in files:
        print_file(figures)
    if reference is not None:
        print(f"\n  training reference (in memory, {args.reference_rows:,} rows, best of "
              f"{args.reference_epochs} epochs timed together after 1 warm-up, best of "
              f"{len(references)} "
              f"round(s)): {reference:,.0f} samples/s")
    print(f"\n  load average after: {load_average()} (other processes skew the figures)")
    found = [goal for figures in files for goal in goals(figures, reference)]
    scale = "" if (args.csv_rows, args.rows) == (GOAL_CSV_ROWS, GOAL_ROWS) else \
        f" (measured at {args.csv_rows:,} CSV rows and {args.rows:,} rows; the goals are " \
        f"stated for {GOAL_CSV_ROWS:,} and {GOAL_ROWS:,})"
    print(f"\n# Goals{scale}")
    for goal in found:
        print(goal.line())
    print()
    print(markdown_table(files, reference))
    return all(goal.passed for goal in found)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_read or args.child_train:
        return child(args)
    if args.blas_threads is not None:  # read by each child's BLAS as it loads
        os.environ.update(dict.fromkeys(BLAS_THREADS, str(args.blas_threads)))
    sizes = {fmt: args.csv_rows if fmt == "csv" else args.rows for fmt in args.formats}
    print(f"# Big data, seed {args.seed}: {machine()}")
    paths = write_files(args, sizes)
    if args.generate_only:
        return 0
    passed = print_results(args, *measure_all(args, paths, sizes))
    if args.delete_data:
        shutil.rmtree(args.data_dir)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
