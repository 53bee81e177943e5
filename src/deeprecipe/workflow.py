"""The main job of ``deeprecipe run``: load_data → split_data → compare_splits → prepare →
build_model → check_gradients → train → yardstick → evaluate → confusion → save → write_report
(preparing, building, training and measuring are :mod:`deeprecipe.pipeline`'s, the yardstick
:mod:`deeprecipe.diagnostics.yardstick`'s, saving :mod:`deeprecipe.persistence`'s, the report
:mod:`deeprecipe.report`'s).

:func:`run` calls the steps in a run folder; a ``KeyboardInterrupt`` writes a checkpoint and
raises :class:`RunInterrupted`, and ``run(..., resume=…)`` continues it bit for bit.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import data as datamod
from . import datasets, gradcheck, persistence, pipeline
from ._checks import choice
from .callbacks import Callback, CallbackList, EarlyStopping, GradientFlowRecorder, Reporter
from .data import augment as augmentations
from .data.encode import MISSING_POLICIES, Encoded, encode_splits, refuse_missing
from .data.images import load_images
from .data.io import ProgressHook
from .data.normalize import Standardizer
from .data.sources import join
from .data.split import target_kind
from .diagnostics import BIAS_THRESHOLD, VARIANCE_THRESHOLD, Diagnosis
from .diagnostics.bias_variance import is_auto
from .diagnostics.galleries import galleries
from .diagnostics.views import views
from .diagnostics.yardstick import Yardstick, fit_references
from .findings import Finding
from .model import Sequential
from .run import folder as runfolder
from .run.result import DataSummary, RunResult
from .runconfig import COURSE_FILES, TABLES, RunConfig, check_data, no_images
from .targets import check_range
from .training import History, TrainingState

FULL_CHECK_MAX = 5000  # parameters: "auto" checks every one of them up to this many
CHECK_ROWS = 32  # training examples the gradient check at initialization computes J on
TRAINED_CHECK_ROWS = 1000  # dev examples the check after training computes J on
MIN_DEV_CHECK_ROWS = 10  # a smaller dev part: the check after training uses training rows
FLOW_ROWS = 256  # examples the gradient-flow records use
MIN_COMPARE_ROWS = 5  # the same-distribution check's 5-fold test needs 5 rows per set
CACHE_DIR = ".cache"  # under output_dir: decoded images (image_cache)


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM after its checkpoint was written.

    ``folder`` is the run folder, ``epoch`` the whole epochs the checkpoint holds,
    ``checkpoint`` its file; ``deeprecipe run --resume <folder>`` continues the run.
    """

    def __init__(self, folder: Path, epoch: int, checkpoint: Path) -> None:
        super().__init__(f"interrupted after {epoch} epoch(s); checkpoint {checkpoint}")
        self.folder, self.epoch, self.checkpoint = folder, epoch, checkpoint


# --- 1. data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedData:
    """Validated data: ``X (m, n)`` (float32 from a file, float64 for a built-in dataset),
    ``y (m,)`` class indices or values."""

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    classes: list[Any] | None
    feature_names: list[str] | None
    image_shape: tuple[int, ...] | None
    dropped_missing_target: int = 0  # rows dropped for a missing target
    sets: tuple[tuple[str, int], ...] = ()  # the file's own sets (Dataset.sets)
    categories: dict[int, list[str]] = field(default_factory=dict)  # Dataset.categories
    missing: dict[int, int] = field(default_factory=dict)  # Dataset.missing (NaN cells)
    notes: list[Finding] = field(default_factory=list)  # what loading noticed (skipped files)
    # two sources: the last dev_test_rows rows are dev_test_name's (--dev-test-data), whose
    # own sets are dev_test_sets; `sets` is then the first file's (training data only)
    dev_test_rows: int = 0
    dev_test_name: str | None = None
    dev_test_sets: tuple[tuple[str, int], ...] = ()


def load_data(spec: str, target: str | None = None, task: str = "auto",
              drop_missing_target: bool = False, progress: ProgressHook | None = None, *,
              target_file: str | None = None, arrays: tuple[str, ...] | None = None,
              image_size: tuple[int, int] | None = None, cache: str | Path | None = None,
              missing: str = "impute", dev_test_data: str | None = None) -> LoadedData:
    """Load a built-in dataset by name or a data file: a ``.csv``, ``.tsv`` or ``.parquet``
    (``target`` names the label column), an ``.npy`` of features (``target_file`` names the
    ``.npy`` file of its labels), an ``.npz`` (arrays ``X`` and ``y``), or a course file,
    ``.mat`` or ``.h5``/``.hdf5`` (:mod:`deeprecipe.data.course`: its sets by the course's
    array names or by ``arrays``); or a folder of images, one subfolder per class
    (:func:`~deeprecipe.data.images.load_images`: resized to ``image_size``, the decoded
    images kept in the folder ``cache``); image arrays ``(m, h, w[, c])`` are flattened.
    ``task`` (``"auto"``, ``"classification"`` or ``"regression"``) says what a file's target
    is; a built-in dataset has its own. A file's rows without a target are an error, or with
    ``drop_missing_target`` are dropped and counted. A table's text feature columns and
    missing feature values are read (``categories``, NaN; :func:`encode` makes them
    numbers), unless ``missing="error"``, which refuses missing values.
    ``progress(done, total)`` follows a file's reading (:func:`progress_unit`).

    ``dev_test_data`` names a second data file or folder, the data you care about (any
    format but ``.npy``; a table's label column is ``target`` too, a course file's arrays
    ``arrays``, a folder's images the first's size), read with the same options and joined
    after the first (:func:`deeprecipe.data.sources.join`: classes merged by label,
    categories by text, the features must match); :func:`split_data` then takes dev and
    test from it only."""
    check_data(spec, target, task=task, target_file=target_file, arrays=arrays,
               image_size=image_size, dev_test_data=dev_test_data)
    choice("load_data", "missing", missing, MISSING_POLICIES)
    first = _load_one(spec, target, task, drop_missing_target, progress, target_file, arrays,
                      image_size, cache, missing)
    if dev_test_data is None:
        return first
    suffix = Path(dev_test_data).suffix.lower()
    size = image_size or (None if first.image_shape is None else
                          (first.image_shape[0], first.image_shape[1]))
    second = _load_one(dev_test_data, target if suffix in TABLES else None, task,
                       drop_missing_target, progress, None,
                       arrays if suffix in COURSE_FILES else None,
                       size if Path(dev_test_data).is_dir() else None, cache, missing)
    if first.image_shape is not None and second.image_shape is not None and \
            first.image_shape != second.image_shape:
        raise ValueError(f"dev_test_data: {second.name} must have the image size of "
                         f"{first.name} {first.image_shape}; received {second.image_shape}.")
    joined = join(first, second, (first.name, second.name))
    classes = joined.classes
    kind = target_kind(None if classes is None else len(classes))
    counts = {column: first.missing.get(column, 0) + second.missing.get(column, 0)
              for column in {*first.missing, *second.missing}}
    return replace(first, X=joined.X, y=joined.y, task=kind, classes=classes,
                   image_shape=first.image_shape or second.image_shape,
                   dropped_missing_target=first.dropped_missing_target
                   + second.dropped_missing_target, categories=joined.categories,
                   missing=dict(sorted(counts.items())), notes=[*first.notes, *second.notes],
                   dev_test_rows=len(second.X), dev_test_name=second.name,
                   dev_test_sets=second.sets)


def _load_one(spec: str, target: str | None, task: str, drop_missing_target: bool,
              progress: ProgressHook | None, target_file: str | None,
              arrays: tuple[str, ...] | None, image_size: tuple[int, int] | None,
              cache: str | Path | None, missing: str) -> LoadedData:
    """One built-in dataset, data file or folder of images, as :func:`load_data` reads it."""
    if spec in datasets.list():
        X, y = datasets.load(spec)
        info = datasets.info(spec)
        classes = None if info.task == "regression" else [int(c) for c in np.unique(y)]
        return LoadedData(spec, X, y, info.task, classes, None, info.image_shape)
    path = Path(spec)
    if path.is_dir():
        loaded = load_images(path, image_size=image_size, cache_dir=cache, progress=progress)
    else:
        loaded = _load_file(path, target or "", target_file or "", task, drop_missing_target,
                            progress, arrays)
    image_shape = tuple(loaded.X.shape[1:]) if loaded.X.ndim > 2 else None  # an array's images
    if loaded.task == "regression":
        check_range(loaded.y, str(path))
    X = loaded.X.reshape(len(loaded.X), -1)
    names = loaded.feature_names if len(loaded.feature_names) == X.shape[1] else None
    if missing == "error":
        refuse_missing(path, loaded.missing, names)
    return LoadedData(path.name, X, loaded.y, loaded.task, loaded.classes, names, image_shape,
                      loaded.dropped_missing_target, loaded.sets, loaded.categories,
                      missing=loaded.missing, notes=list(loaded.notes))


def _load_file(path: Path, target: str, target_file: str, task: str,
               drop_missing_target: bool, progress: ProgressHook | None,
               arrays: tuple[str, ...] | None = None) -> datamod.Dataset:
    """The loader of the file's kind, by suffix (checked by ``check_data``)."""
    options: dict[str, Any] = {"task": task, "drop_missing_target": drop_missing_target,
                               "progress": progress}
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return datamod.load_csv(path, target, delimiter="\t" if suffix == ".tsv" else ",",
                                **options)
    if suffix == ".parquet":
        return datamod.load_parquet(path, target, **options)
    if suffix == ".npy":
        return datamod.load_npy(path, target_file, **options)
    if suffix == ".mat":
        return datamod.load_mat(path, arrays=arrays, **options)
    if suffix in (".h5", ".hdf5"):
        return datamod.load_h5(path, arrays=arrays, **options)
    return datamod.load_npz(path, **options)


def image_cache(output_dir: str | Path) -> Path:
    """Where a folder's decoded images are kept between runs: ``output_dir/.cache``."""
    return Path(output_dir) / CACHE_DIR


def progress_unit(spec: str) -> str:
    """What :func:`load_data`'s ``progress`` counts for the data ``spec``: ``"bytes"`` of a
    CSV or TSV file, ``"images"`` of a folder, ``"rows"`` of the other files."""
    if Path(spec).is_dir() and spec not in datasets.list():
        return "images"
    return "bytes" if Path(spec).suffix.lower() in (".csv", ".tsv") else "rows"


def split_data(loaded: LoadedData, seed: int) -> tuple[datamod.Splits, list[Finding]]:
    """The notes' split (60/20/20 up to 10,000 dev and test rows), or the file's own sets
    (``loaded.sets``) kept, a validation or test set alone halved into dev and test
    (:func:`~deeprecipe.data.split_sets`); with two sources (``loaded.dev_test_rows``) dev
    and test from the second only and a train-dev part held out of the first
    (:func:`~deeprecipe.data.split_sources`). Stratified for classifiers. Returns the splits
    and the notes they raised (two sources; the file's sets kept; a class missing from a
    part; no test set)."""
    stratify = loaded.task != "regression"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", datamod.ClassMissingWarning)
        if loaded.dev_test_rows:
            splits = datamod.split_sources(loaded.X, loaded.y,
                                           len(loaded.X) - loaded.dev_test_rows,
                                           loaded.dev_test_sets, stratify=stratify, seed=seed)
        else:
            splits = datamod.split_sets(loaded.X, loaded.y, loaded.sets, stratify=stratify,
                                        seed=seed)
    notes = [warning.message.args[0] for warning in caught  # split's only warning
             if isinstance(warning.message, datamod.ClassMissingWarning)]
    if loaded.dev_test_rows:
        rows = loaded.dev_test_rows
        notes.insert(0, Finding("two_sources", {
            "name": loaded.dev_test_name, "rows": rows, "first": loaded.name,
            "dev": len(splits.dev), "test": len(splits.test or ()),
            "joined": rows - len(splits.dev) - len(splits.test or ()),
            "train_dev": len(splits.train_dev or ()), "sets": len(loaded.dev_test_sets) > 1}))
    elif len(loaded.sets) > 1:
        given = dict(loaded.sets)
        halved = next((name for name in ("dev", "test") if name in given), None) \
            if len(given) == 2 else None
        notes.insert(0, Finding("file_sets", {
            "sets": [list(pair) for pair in loaded.sets], "halved": halved,
            "dev": len(splits.dev), "test": len(splits.test or ())}))
    return splits, notes + ([Finding("no_test_split")] if splits.test is None else [])


def encode(loaded: LoadedData, splits: datamod.Splits) -> Encoded | None:
    """A table's text columns one-hot and its missing values imputed
    (:func:`~deeprecipe.data.encode.encode_splits`, fitted on the training part), the
    split's ``X`` filled where it is when only numbers are missing; ``None`` for data with
    neither (nothing is read or copied)."""
    if not (loaded.categories or loaded.missing):
        return None
    return encode_splits(splits, loaded.categories, loaded.feature_names, in_place=True)


def compare_splits(
    splits: datamod.Splits, seed: int, feature_names: list[str] | None = None
) -> tuple[dict[str, datamod.Comparison], list[Finding]]:
    """The same-distribution check, train vs dev and train vs test, each on a seeded random
    sample of at most :data:`~deeprecipe.data.compare.MAX_ROWS` rows per part (too-small
    parts are skipped with a note). With two sources (a ``train_dev`` part) dev and test
    must match (``dev vs test``), and ``train vs dev`` measures the known mismatch (the
    note ``known_mismatch``: not a failed check)."""
    pairs = [("train", "dev"), ("train", "test")] if splits.train_dev is None else \
        [("dev", "test"), ("train", "dev")]
    comparisons, notes = {}, []
    parts = splits.parts
    for a, b in pairs:
        if b not in parts:
            continue
        label = f"{a} vs {b}"
        small = min((a, b), key=lambda name: len(parts[name]))
        if len(parts[small]) < MIN_COMPARE_ROWS:
            notes.append(Finding("compare_skipped", {
                "label": label, "part": small, "rows": len(parts[small]),
                "needs": MIN_COMPARE_ROWS}))
            continue
        comparisons[label] = datamod.compare(parts[a], parts[b], labels=(a, b),
                                             feature_names=feature_names, seed=seed)
    known = comparisons.get("train vs dev") if splits.train_dev is not None else None
    if known is not None:
        notes.append(Finding("known_mismatch", {"verdict": known.verdict, "auc": known.auc}))
    return comparisons, notes


# --- 2. the network ---------------------------------------------------------------------------


def check_mode(config: RunConfig, model: Sequential) -> str | None:
    """The gradient check's mode: ``auto`` is full up to :data:`FULL_CHECK_MAX` parameters,
    else sampled; ``None`` when checks are off."""
    if config.gradcheck == "off":
        return None
    if config.gradcheck == "auto":
        return "full" if model.n_parameters <= FULL_CHECK_MAX else "sampled"
    return config.gradcheck


def check_gradients(
    model: Sequential, splits: datamod.Splits, point: str, mode: str, seed: int
) -> tuple[gradcheck.GradcheckReport, str]:
    """The notes' gradient check at ``point`` (``"init"``: on :data:`CHECK_ROWS` training
    rows; ``"trained"``: on :data:`TRAINED_CHECK_ROWS` dev rows, where the gradient is not
    held near 0 by a minimum, unless the dev part is tiny), and its one-line summary:
    ``passed: great (worst block dense_1.W, 4.8e-08) on 32 training rows``, ``FAILED: worry
    in dense_2.W (3.3e-01) on 1,000 dev rows`` or ``no verdict: …``."""
    if point == "trained" and len(splits.dev) >= MIN_DEV_CHECK_ROWS:
        part, name, rows = splits.dev, "dev", TRAINED_CHECK_ROWS
    else:
        part, name, rows = splits.train, "training", CHECK_ROWS
    count = min(rows, len(part))
    report = gradcheck.check_model(model, *part.take(slice(0, count)), mode=mode, seed=seed)
    report.notes.insert(0, Finding("grad_rows", {"count": count, "part": name}))
    return report, f"{report.headline()} on {count:,} {name} rows"


# --- 3. training ------------------------------------------------------------------------------


def augmentation(
    config: RunConfig, loaded: LoadedData, scaler: Standardizer, X_train: np.ndarray
) -> augmentations.InRawUnits | None:
    """The transforms ``config.augment`` names (``True``: the images'
    :func:`~deeprecipe.data.augment.defaults`; :func:`~deeprecipe.data.augment.for_images`)
    for image data when it is on, in pixel units and clipped to the range of ``X_train``
    (the standardized training set)."""
    if not config.augment:
        return None
    if loaded.image_shape is None:
        raise no_images(loaded.name)
    if scaler.mean_ is None or scaler.std_ is None:
        raise RuntimeError("augmentation: the standardizer must be fitted first.")
    return pipeline.augmentation(loaded.image_shape, scaler.mean_, scaler.std_, X_train,
                                 augmentations.chosen(config.augment, loaded.image_shape))


class PeriodicCheckpoint(Callback):
    """Writes ``state`` to the run folder every ``every`` epochs. ``fit`` takes its
    snapshot after the callbacks, so the file written at the end of epoch ``k`` holds the
    state after epoch ``k − 1``: one epoch behind, always whole."""

    def __init__(self, state: TrainingState, folder: Path, every: int) -> None:
        self.state, self.folder, self.every = state, folder, every
        self.written = state.epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        if self.every and self.state.epoch - self.written >= self.every:
            runfolder.save_checkpoint(self.folder, self.state)
            self.written = self.state.epoch
        return False


@dataclass
class Training:
    """What training produced besides the weights."""

    history: History
    stopper: EarlyStopping
    recorder: GradientFlowRecorder


def train(
    model: Sequential,
    prepared: pipeline.Prepared,
    config: RunConfig,
    state: TrainingState,
    *,
    augment: augmentations.InRawUnits | None = None,
    callbacks: Sequence[Callback] = (),
    folder: Path | None = None,
) -> Training:
    """Mini-batch training (:func:`deeprecipe.pipeline.train`) on ``prepared.learned`` with
    early stopping on the dev cost (best weights restored), gradient-flow records every
    epoch, and ``state`` kept for checkpoints (written to ``folder`` every
    ``config.checkpoint_every`` epochs); ``callbacks`` see every epoch. A regression's target
    scale is then folded into the output layer, so the model predicts the target's units."""
    stopper = EarlyStopping(monitor="dev_cost", patience=config.patience, restore_best=True)
    flow_rows = prepared.learned.train.sample(FLOW_ROWS, np.random.default_rng(config.seed))
    recorder = GradientFlowRecorder(*flow_rows, max_rows=FLOW_ROWS, seed=config.seed)
    steering: list[Callback] = [recorder, CallbackList(callbacks)]
    if folder is not None:
        steering.append(PeriodicCheckpoint(state, folder, config.checkpoint_every))
    history = pipeline.train(
        model, prepared.learned.parts, epochs=config.epochs, batch_size=config.batch_size,
        optimizer=config.optimizer, learning_rate=config.learning_rate, stopping=stopper,
        callbacks=steering, seed=config.seed, augment=augment, state=state)
    if prepared.target_scale is not None:
        prepared.target_scale.fold(model)
    return Training(history, stopper, recorder)


# --- 4. evaluation --------------------------------------------------------------------------


def yardstick(prepared: pipeline.Prepared, seed: int) -> Yardstick:
    """The reference models (:func:`~deeprecipe.diagnostics.yardstick.fit_references`)
    fitted on the prepared training part and measured on its dev part (its train-dev part
    with two sources: the training distribution's Bayes error), in the units of the
    run's errors: error rates, or a regression's mean squared error in the target's units
    (the inputs standardized as the network's)."""
    task = "regression" if prepared.task == "regression" else "classification"
    splits = prepared.splits
    if splits.train_dev is None:
        return fit_references(splits.train, splits.dev, task=task, seed=seed)
    return replace(fit_references(splits.train, splits.train_dev, task=task, seed=seed),
                   measured_on="train-dev")


def evaluate(model: Sequential, prepared: pipeline.Prepared, history: History,
             bayes_error: float | str | Yardstick) -> Diagnosis:
    """Train, dev and test error in inference mode and their diagnosis
    (:func:`deeprecipe.pipeline.measure`) against ``bayes_error``: a :class:`Yardstick`
    (:func:`yardstick`), a Bayes error given, or ``"auto"`` without a yardstick (read as 0,
    :func:`~deeprecipe.diagnose`'s). A regression's thresholds and a given ``bayes_error``
    are fractions of the training targets' variance (a gap is high above 2% of it, whatever
    the target's units)."""
    target = prepared.target_scale
    scale = 1.0 if target is None else float(target.scale) ** 2  # one σ for the target
    bayes = bayes_error if isinstance(bayes_error, (str, Yardstick)) else \
        float(bayes_error) * scale
    return pipeline.measure(model, prepared.splits.parts, history, bayes,
                            bias_threshold=BIAS_THRESHOLD * scale,
                            variance_threshold=VARIANCE_THRESHOLD * scale)


def confusion(model: Sequential, part: datamod.Part, n_classes: int) -> np.ndarray:
    """``(k, k)`` counts on ``part``: rows are the true class, columns the predicted one."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(part.y, dtype=np.intp), model.predict(part.X)), 1)
    return counts


# --- the whole job ----------------------------------------------------------------------------


@dataclass
class _Clock:
    """Seconds per step, and the callbacks to tell about them."""

    callbacks: CallbackList
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str, description: str, total: int | None = None, done: int = 0
             ) -> Iterator[list[str]]:
        """Time the step; the block appends its one-line summary to the yielded list."""
        summary: list[str] = []
        self.callbacks.on_step_begin(name, description, total, done)
        start = time.perf_counter()
        yield summary
        self.seconds[name] = time.perf_counter() - start
        self.callbacks.on_step_end(name, self.seconds[name], "; ".join(summary))


def run(
    config: RunConfig,
    folder: str | Path,
    callbacks: Sequence[Callback] = (),
    resume: runfolder.ResumePoint | None = None,
) -> RunResult:
    """The whole main job in the (existing, empty or resumed) run folder ``folder``.

    Returns the :class:`RunResult` after writing the report and ``model/``. A
    ``KeyboardInterrupt`` during the run writes ``checkpoint.safetensors``, marks
    ``run.json`` interrupted and raises :class:`RunInterrupted`; pass
    ``resume=runfolder.resume_point(folder)`` to continue. Any other error is raised as
    it is, after writing the checkpoint too when training had started (``run.json`` says
    ``failed``; the run can be resumed once the cause is fixed); a new run that fails
    before its first epoch (bad data, a bad option) leaves no folder behind.
    """
    folder = Path(folder)
    state = resume.state if resume is not None and resume.state is not None else \
        TrainingState()
    fingerprint = resume.fingerprint if resume is not None else ""
    runfolder.write_run_file(folder, config, fingerprint, runfolder.RUNNING)
    try:
        return _steps(config, folder, CallbackList(callbacks), state, fingerprint)
    except KeyboardInterrupt as interrupt:
        path = _keep(folder, config, state, runfolder.INTERRUPTED)
        raise RunInterrupted(folder, state.epoch, path) from interrupt
    except Exception:
        if resume is None and state.epoch == 0:
            runfolder.discard(folder)
        else:
            _keep(folder, config, state, runfolder.FAILED)
        raise


def _keep(folder: Path, config: RunConfig, state: TrainingState, status: str) -> Path:
    """Write the checkpoint and mark ``run.json`` with ``status``; returns the checkpoint."""
    path = runfolder.save_checkpoint(folder, state)
    record = runfolder.read_run_file(folder)
    runfolder.write_run_file(folder, config, record["data_fingerprint"], status)
    return path


def _steps(config: RunConfig, folder: Path, callbacks: CallbackList, state: TrainingState,
           expected_fingerprint: str) -> RunResult:
    clock = _Clock(callbacks)
    notes: list[Finding] = []
    loading = config.data if config.dev_test_data is None else \
        f"{config.data} and {config.dev_test_data}"
    with clock.step("data", f"loading {loading}") as summary:
        loaded = load_data(config.data, config.target, config.task,
                           config.drop_missing_target,
                           Reporter(callbacks, progress_unit(config.data)),
                           target_file=config.target_file, arrays=config.arrays,
                           image_size=config.image_size, cache=image_cache(config.output_dir),
                           missing=config.missing, dev_test_data=config.dev_test_data)
        data_fingerprint = _check_fingerprint(folder, config, loaded, expected_fingerprint)
        summary.append(f"{len(loaded.X):,} examples, {loaded.X.shape[1]} features, "
                       f"{loaded.task}")
        if loaded.dev_test_rows:
            summary.append(f"{loaded.dev_test_rows:,} of them from {loaded.dev_test_name}")
        notes += loaded.notes  # what loading noticed (arrays transposed, files skipped)
        if loaded.dropped_missing_target:
            notes.append(Finding("dropped_rows", {"count": loaded.dropped_missing_target}))
            summary.append(notes[-1].text)
    with clock.step("split", "splitting train/dev/test") as summary:
        raw, split_notes = split_data(loaded, config.seed)
        summary.append(" / ".join(f"{name} {len(part):,}" for name, part in raw.parts.items()))
    feature_names, encoded = loaded.feature_names, None
    if loaded.categories or loaded.missing:
        with clock.step("encode", "encoding text columns and imputing missing values "
                        "(the training part's categories and medians)") as summary:
            encoded = encode(loaded, raw)
            assert encoded is not None
            raw, feature_names = encoded.splits, encoded.feature_names
            summary.append(f"{loaded.X.shape[1]} columns → {len(feature_names)} inputs")
    with clock.step("compare", "checking that the splits share one distribution") as summary:
        comparisons, compare_notes = compare_splits(raw, config.seed, feature_names)
        summary += [f"{name}: {c.headline()}" for name, c in comparisons.items()]
    with clock.step("standardize", "standardizing with the training set's μ and σ"):
        # the run owns the loaded X: standardized where it is, so the data is held once
        prepared = pipeline.prepare(
            raw, "regression" if loaded.task == "regression" else "classification",
            feature_names, loaded.name, where="run", in_place=True)
        splits, scaler, target = prepared.splits, prepared.standardizer, prepared.target_scale
    notes += split_notes + (encoded.notes if encoded else []) + compare_notes + prepared.notes
    if target is not None:
        notes.append(Finding("target_scaled:run", {"mean": target.mean, "scale": target.scale}))
    with clock.step("model", "building the network") as summary:
        model = pipeline.build_model(
            splits.train.shape[1], prepared.task, prepared.n_outputs, config.hidden,
            activation=config.activation, init=config.init, keep_prob=config.keep_probs(),
            l2=config.l2, l1=config.l1, seed=config.seed)
        augment = augmentation(config, loaded, scaler, splits.train.X) if config.augment \
            else None  # (the training rows are gathered only for it)
        if augment is not None and loaded.image_shape is not None:
            notes.append(Finding("augmented", {
                "transforms": list(augmentations.chosen(config.augment, loaded.image_shape)),
                "defaults": config.augment is True}))
        summary.append(f"{model.n_parameters:,} parameters")
    mode = check_mode(config, model)
    gradchecks = {}

    def gradient_check(point: str, when: str, parts: datamod.Splits) -> None:
        if mode is not None:
            with clock.step(f"gradcheck_{point}", f"gradient check {when} ({mode})") as summary:
                gradchecks[point], line = check_gradients(model, parts, point, mode, config.seed)
                summary.append(line)

    gradient_check("init", "at initialization", prepared.learned)
    if state.epoch:
        notes.append(Finding("resumed", {"epoch": state.epoch}))
    with clock.step("train", "training", config.epochs, state.epoch) as summary:
        training = train(model, prepared, config, state, augment=augment,
                         callbacks=callbacks.callbacks, folder=folder)
        summary.append(f"{training.history.epochs} epochs ({training.history.stop_reason})")
    gradient_check("trained", "after training", splits)
    reference: Yardstick | None = None
    # "auto": the yardstick, unless training diverged (no bias reading: "auto" reads 0)
    if is_auto(config.bayes_error) and not training.history.divergence:
        with clock.step("yardstick", "fitting reference models (the yardstick)") as summary:
            reference = yardstick(prepared, config.seed)
            summary.append(reference.headline())
    with clock.step("evaluate", "measuring errors and diagnosing bias/variance") as summary:
        diagnosis = evaluate(model, prepared, training.history,
                             config.bayes_error if reference is None else reference)
        counts = None if loaded.task == "regression" else confusion(
            model, splits.dev, len(loaded.classes or ()))
        summary.append(diagnosis.verdict)
    result = _result(config, folder, loaded, raw, splits, model, comparisons, gradchecks,
                     training, diagnosis, counts, notes, clock.seconds, reference)
    result.data.encoding = [] if encoded is None else encoded.columns
    if target is not None:  # a regression's curves are on the standardized target
        result.target_variance = float(target.scale) ** 2
    with clock.step("report", "writing the report and the model"):
        from .report import write_report  # lazily: matplotlib and jinja2 load only for a report

        if loaded.image_shape is not None:  # the galleries, in pixels; the model's own inputs
            result.galleries = galleries(
                model, splits, scaler, loaded.image_shape, loaded.task, loaded.classes,
                augment=augment, seed=config.seed,
                transforms=augmentations.chosen(config.augment, loaded.image_shape))
        model.standardizer = scaler  # saved with the model; the views' points in raw units
        # the report never runs the model; a big training part's points are a sample
        result.views = views(model, splits, loaded.task, seed=config.seed)
        # dr.load reads the folder; deeprecipe predict also reads classes (the original labels)
        persistence.save(model, folder / runfolder.MODEL_DIR, extra={
            "task": loaded.task, "classes": loaded.classes, "data": loaded.name,
            "image_shape": None if loaded.image_shape is None else list(loaded.image_shape),
            "encoder": None if encoded is None else encoded.encoder.to_dict()})
        write_report(result, folder)
    result.seconds = dict(clock.seconds)
    runfolder.write_run_file(folder, config, data_fingerprint, runfolder.COMPLETE)
    (folder / runfolder.CHECKPOINT_FILE).unlink(missing_ok=True)
    return result


def _check_fingerprint(folder: Path, config: RunConfig, loaded: LoadedData, expected: str
                       ) -> str:
    """Refuse to resume on other data; record the data's fingerprint in ``run.json`` and
    return it."""
    actual = pipeline.fingerprint(loaded.X, loaded.y)
    if expected and expected != actual:
        raise runfolder.RunFolderError(
            f"resume: the data {config.data} changed since {folder} started (its "
            "fingerprint differs); resuming would not give the run's weights. help: restore "
            "the original `data`, or start a new run.", "resume", "data")
    runfolder.write_run_file(folder, config, actual, runfolder.RUNNING)
    return actual


def _result(
    config: RunConfig, folder: Path, loaded: LoadedData, raw: datamod.Splits,
    splits: datamod.Splits, model: Sequential, comparisons: dict[str, datamod.Comparison],
    gradchecks: dict[str, gradcheck.GradcheckReport], training: Training,
    diagnosis: Diagnosis, counts: np.ndarray | None,
    notes: list[Finding], seconds: dict[str, float], reference: Yardstick | None,
) -> RunResult:
    """Everything the report shows, in one :class:`RunResult`."""
    summary = DataSummary(
        name=loaded.name, task=loaded.task, n_samples=len(loaded.X),
        n_features=loaded.X.shape[1], classes=loaded.classes, image_shape=loaded.image_shape,
        split_sizes=raw.sizes(), split_note=raw.note or None, notes=list(notes),
        dropped_missing_target=loaded.dropped_missing_target,
        dev_test_data=loaded.dev_test_name,
    )
    recorder, stopper, history = training.recorder, training.stopper, training.history
    errors = {"train": diagnosis.train_error, "dev": diagnosis.dev_error}
    if diagnosis.train_dev_error is not None:
        errors = {"train": diagnosis.train_error, "train_dev": diagnosis.train_dev_error,
                  "dev": diagnosis.dev_error}
    if diagnosis.test_error is not None:
        errors["test"] = diagnosis.test_error
    # The verdict is read at initialization, where the notes place vanishing and exploding
    # gradients (after training, weights grown to a target's scale are no pathology).
    flow = recorder.initial or (recorder.flows[-1] if recorder.flows else None)
    return RunResult(
        name=folder.name, config=config.to_dict(), data=summary, model_summary=model.summary(),
        comparisons=comparisons, gradchecks=gradchecks, history=history.to_dict(),
        best_epoch=history.best_epoch, stopped_epoch=stopper.stopped_epoch,
        stop_reason=history.stop_reason, grad_norms=recorder.grad_norms(),
        grad_norm_epochs=list(recorder.epochs), flow=flow, errors=errors,
        bayes_error=diagnosis.bayes_error, diagnosis=diagnosis, confusion=counts,
        seconds=dict(seconds), notes=list(notes), model=model, splits=splits,
        yardstick=reference,
    )
