"""``RunConfig``: every option of ``deeprecipe run``, from a TOML file and/or flags.

The options are one table (:data:`OPTIONS`): name, parser, constraint and help. The same
table checks a ``run.toml`` file, the command line's flags (``--learning-rate``) and the
``run.json`` of a run folder, so an option has one meaning and one error message
everywhere::

    run.toml: epochs must be a positive integer; received epochs=0.
    command line: --keep-prob must be probabilities in (0, 1], one per hidden layer …
    run.toml: unknown key 'epoch'. help: did you mean 'epochs'? Valid keys: data, target, …

A ``run.toml`` holds top-level ``key = value`` lines; flags override the file's values
(:func:`resolve`). The defaults train a good digits network in a few seconds.

Example ``run.toml``::

    data = "digits"
    hidden = [128, 64]
    keep_prob = [0.8, 1.0]   # one per hidden layer (1 = no dropout), or one number for all
    l2 = 1.0
    epochs = 300
    patience = 20
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from . import activations, datasets, initializers, optimizers
from ._checks import describe
from .data.cells import NUMBER
from .diagnostics import bias_variance

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

GRADCHECK_MODES = ("auto", "full", "sampled", "directional", "off")
TASKS = ("auto", "classification", "regression")  # as deeprecipe.data.load_csv takes them
HIDDEN_ACTIVATIONS = tuple(name for name in activations.ACTIVATIONS if name != "softmax")
COMMAND_LINE = "command line"


class ConfigError(ValueError):
    """An option with a bad value, or an unknown option; the message names the key."""


@dataclass(frozen=True)
class RunConfig:
    """Every option of the main job (``deeprecipe run``); see :data:`OPTIONS` for each.

    ``keep_prob`` is one probability per hidden layer (``None``: 0.8 on the first hidden
    layer and no dropout after it; :meth:`keep_probs` resolves it). ``init=None`` picks He
    for ReLU-like activations and Xavier otherwise. ``name=None`` names the run folder
    after the data and the time.
    """

    data: str = "digits"
    target: str | None = None
    task: str = "auto"
    drop_missing_target: bool = False
    name: str | None = None
    output_dir: str = "runs"
    hidden: tuple[int, ...] = (128, 64)
    activation: str = "relu"
    init: str | None = None
    l2: float = 1.0
    l1: float = 0.0
    keep_prob: tuple[float, ...] | None = None
    epochs: int = 300
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    patience: int = 20
    augment: bool = False
    bayes_error: float = 0.0
    gradcheck: str = "auto"
    checkpoint_every: int = 10
    seed: int = 0

    def keep_probs(self) -> tuple[float, ...]:
        """One keep_prob per hidden layer."""
        if self.keep_prob is not None:
            return self.keep_prob
        return (0.8,) + (1.0,) * (len(self.hidden) - 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON types, with ``keep_prob`` resolved (what ``run.json`` stores)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["keep_prob"] = self.keep_probs()
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in values.items()}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "config") -> RunConfig:
        """A checked config from ``{key: value}`` (unknown keys and bad values raise a
        :class:`ConfigError` that names ``source`` and the key)."""
        return _checked(cls(**parse(values, source)), source)


@dataclass(frozen=True)
class Option:
    """One option: how to read a value (TOML value or flag text) and what it must be."""

    parse: Callable[[Any], Any]
    constraint: str
    help: str
    metavar: str | None = None


# --- parsers: each takes a TOML value or a flag's text and returns the value, or raises -------


class BadValue(ValueError):
    """A value that does not satisfy an option's constraint (the caller names the key); its
    message, when it has one, is a hint on how to write the value."""

    @property
    def help(self) -> str:
        """`` help: <the hint>`` to end the caller's message, or ``""`` without a hint."""
        return f" help: {self}" if str(self) else ""


INTEGER = re.compile(r"[+-]?[0-9]+")


def _integer(value: Any) -> int:
    """An integer, or its text in ASCII digits (Python's ``int()`` also reads ``1_000`` and
    Arabic-Indic or full-width digits)."""
    if isinstance(value, str):
        if not INTEGER.fullmatch(value.strip()):
            raise BadValue
        try:
            return int(value.strip())
        except ValueError:  # more digits than Python converts (4,300)
            raise BadValue from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue
    return value


def integer(text: str) -> int:
    """argparse's ``type`` for an integer flag, read as ``run.toml``'s (``type=int`` also
    reads ``1_000`` and full-width digits); argparse calls a refusal 'invalid integer value'."""
    return _integer(text)


def number(text: str) -> float:
    """argparse's ``type`` for a number flag: finite, in the forms of a CSV cell."""
    return _number(text)


def _number(value: Any) -> float:
    """A finite number, or its text in the forms of a CSV cell (:data:`.data.cells.NUMBER`)."""
    if isinstance(value, str):
        if not NUMBER.fullmatch(value.strip()):
            raise BadValue
        number = float(value.strip())
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadValue
    else:
        number = float(value)
    if not math.isfinite(number):
        raise BadValue
    return number


def _items(value: Any) -> list[Any]:
    """A TOML array, or the comma-separated text of a flag (``128,64``); an empty item
    (``10,,3``) stays, for the check to refuse."""
    if isinstance(value, str):
        return value.replace(" ", "").split(",")
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def positive_int(value: Any) -> int:
    number = _integer(value)
    if number < 1:
        raise BadValue
    return number


def non_negative_int(value: Any) -> int:
    number = _integer(value)
    if number < 0:
        raise BadValue
    return number


SEED_MAX = 2**32 - 1  # the largest seed NumPy's RandomState and scikit-learn accept


def seed_int(value: Any) -> int:
    number = _integer(value)
    if not 0 <= number <= SEED_MAX:
        raise BadValue
    return number


def non_negative(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise BadValue
    return number


def positive(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise BadValue
    return number


def fraction(value: Any) -> float:
    """An error rate: ``0.01`` or ``"1%"``, in [0, 1]; a bare number above 1 is refused with
    the hint to write ``11%`` (the one rule of
    :func:`~deeprecipe.diagnostics.bias_variance.fraction`)."""
    try:
        return bias_variance.fraction(value)
    except bias_variance.FractionError as error:
        raise BadValue(error.hint) from None


def units(value: Any) -> tuple[int, ...]:
    items = tuple(positive_int(item) for item in _items(value))
    if not items:
        raise BadValue
    return items


def probabilities(value: Any) -> tuple[float, ...]:
    items = tuple(_number(item) for item in _items(value))
    if not items or not all(0.0 < p <= 1.0 for p in items):
        raise BadValue
    return items


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadValue
    return value.strip()


def folder_name(value: Any) -> str:
    name = text(value)
    if name in (".", "..") or any(c in name for c in "/\\") or name.startswith("-") \
            or not name.isprintable():
        raise BadValue
    return name


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    raise BadValue


def one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in choices:
            raise BadValue
        return value.strip()

    return parse


def _listed(choices: tuple[str, ...] | list[str]) -> str:
    return "one of " + ", ".join(repr(choice) for choice in choices)


OPTIONS: dict[str, Option] = {
    "data": Option(text, "a built-in dataset name, a .csv or an .npz file",
                   "built-in dataset name, file.csv or file.npz (default: digits)", "NAME|FILE"),
    "target": Option(text, "a column name", "the label column of a CSV file", "COLUMN"),
    "task": Option(one_of(*TASKS), _listed(TASKS),
                   "what the target of a .csv or .npz file is: classification, regression, or "
                   "auto (text and few distinct whole numbers are classes; default: auto)",
                   "KIND"),
    "drop_missing_target": Option(boolean, "true or false",
                                  "drop the rows whose target is missing (empty, NA, NaN, "
                                  "null, …) and report how many (default: off: they are an "
                                  "error naming them)"),
    "name": Option(folder_name, "a folder name of printable characters (not '.' or '..', "
                   "no '/' or '\\', not starting with '-')",
                   "the run's folder name under output_dir (default: data + time)", "NAME"),
    "output_dir": Option(text, "a folder path", "where run folders go (default: runs)", "DIR"),
    "hidden": Option(units, "positive integers, one per hidden layer (e.g. [128, 64])",
                     "hidden layer sizes, e.g. 128,64 (default: 128,64)", "N,N,..."),
    "activation": Option(one_of(*HIDDEN_ACTIVATIONS), _listed(HIDDEN_ACTIVATIONS),
                         f"hidden layers' activation: {', '.join(HIDDEN_ACTIVATIONS)} "
                         "(default: relu)", "NAME"),
    "init": Option(one_of(*initializers.INITIALIZERS), _listed(list(initializers.INITIALIZERS)),
                   "weight initialization: zeros, random, xavier, glorot, he (or "
                   "<name>_uniform) (default: he for relu, xavier otherwise)", "NAME"),
    "l2": Option(non_negative, "a number >= 0", "L2 regularization λ (default: 1.0)", "LAMBDA"),
    "l1": Option(non_negative, "a number >= 0", "L1 regularization λ (default: 0)", "LAMBDA"),
    "keep_prob": Option(probabilities, "probabilities in (0, 1], one per hidden layer or one "
                        "for all", "dropout keep_prob per hidden layer, e.g. 0.8,1 (default: "
                        "0.8 on the first hidden layer)", "P,P,..."),
    "epochs": Option(positive_int, "a positive integer", "most epochs (default: 300)", "N"),
    "batch_size": Option(positive_int, "a positive integer", "mini-batch size (default: 64)",
                         "N"),
    "optimizer": Option(one_of(*optimizers.OPTIMIZERS), _listed(list(optimizers.OPTIMIZERS)),
                        "sgd, momentum or adam (default: adam)", "NAME"),
    "learning_rate": Option(positive, "a number > 0", "learning rate α (default: 0.001)",
                            "ALPHA"),
    "patience": Option(positive_int, "a positive integer",
                       "early stopping: epochs without a better dev cost (default: 20)", "N"),
    "augment": Option(boolean, "true or false",
                      "augment image data with small rotations, shifts and zooms (default: off)"),
    "bayes_error": Option(fraction, bias_variance.FRACTION,
                          "Bayes (human-level) error for the diagnosis, 0.01 or 1%; for "
                          "regression a fraction of the target's variance (default: 0)",
                          "ERROR"),
    "gradcheck": Option(one_of(*GRADCHECK_MODES), _listed(GRADCHECK_MODES),
                        "gradient check mode: auto (full for small networks, else sampled), "
                        "full, sampled, directional or off (default: auto)", "MODE"),
    "checkpoint_every": Option(non_negative_int, "an integer >= 0",
                               "also write a checkpoint every N epochs; 0: only on an "
                               "interruption (default: 10)", "N"),
    "seed": Option(seed_int, f"an integer from 0 to {SEED_MAX} (2**32 - 1)",
                   "seed of the split, the weights, shuffling and dropout (default: 0)", "N"),
}
assert set(OPTIONS) == {f.name for f in fields(RunConfig)}  # one table entry per field


def key_label(key: str, source: str) -> str:
    """How ``source`` spells ``key``: ``--batch-size`` on the command line, else ``key``."""
    return "--" + key.replace("_", "-") if source == COMMAND_LINE else key


def parse(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check every ``key = value`` of ``source``; returns the parsed values."""
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in OPTIONS:
            raise ConfigError(_unknown(key, source))
        option = OPTIONS[key]
        if value is None and RunConfig.__dataclass_fields__[key].default is None:
            parsed[key] = None
            continue
        try:
            parsed[key] = option.parse(value)
        except BadValue as error:
            label = key_label(key, source)
            raise ConfigError(f"{source}: {label} must be {option.constraint}; received "
                              f"{label}={describe(value)}.{error.help}") from None
    return parsed


def _unknown(key: str, source: str) -> str:
    close = difflib.get_close_matches(key.replace("-", "_"), list(OPTIONS), n=1)
    hint = f" help: did you mean {close[0]!r}?" if close else ""
    return (f"{source}: unknown key {key!r}.{hint} Valid keys: {', '.join(OPTIONS)}.")


def _checked(config: RunConfig, source: str) -> RunConfig:
    """Checks between options (keep_prob against hidden, target against data)."""
    keep = config.keep_prob
    if keep is not None and len(keep) == 1 and len(config.hidden) > 1:
        config = replace(config, keep_prob=keep * len(config.hidden))
    keep = config.keep_prob
    if keep is not None and len(keep) != len(config.hidden):
        label = key_label("keep_prob", source)
        raise ConfigError(
            f"{source}: {label} must have one value per hidden layer ({len(config.hidden)}: "
            f"hidden={list(config.hidden)}) or a single value; received {label}={list(keep)}."
        )
    is_csv = config.data.lower().endswith(".csv")
    if is_csv and config.target is None and Path(config.data).is_file():  # else: no file
        label = key_label("target", source)
        raise ConfigError(f"{source}: {label} must name the label column of {config.data}; "
                          "received none.")
    no_columns = config.data in datasets.list() or config.data.lower().endswith(".npz")
    if config.target is not None and no_columns:  # other data: --data's own error
        label = key_label("target", source)
        raise ConfigError(f"{source}: {label} applies to CSV data only; received "
                          f"{label}={config.target!r} with data={config.data!r}.")
    if config.data in datasets.list() and config.task == "regression":  # else ignored
        label = key_label("task", source)
        raise ConfigError(f"{source}: {label} must be auto or classification for the built-in "
                          f"dataset {config.data!r} (its labels are classes); received "
                          f"{label}='regression'.")
    return config


def read_toml(path: str | Path) -> dict[str, Any]:
    """The ``key = value`` pairs of a TOML file (a nested table is refused by key)."""
    source = Path(path)
    if source.is_dir():
        raise ConfigError(f"--config must be a TOML file; received --config='{source}', a "
                          "folder.")
    if source.exists() and not source.is_file():
        raise ConfigError(f"--config must be a regular file; received --config='{source}', a "
                          "pipe or a device (reading one never ends).")
    if not source.is_file():
        raise FileNotFoundError(f"--config: no file {source}.")
    try:  # a byte order mark (Windows Notepad writes one) is not TOML's, but means no harm
        values = tomllib.loads(source.read_bytes().decode("utf-8-sig"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source} is not valid TOML: {error}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--config: {source} is not a TOML file: it is not UTF-8 text."
                          ) from None
    for key, value in values.items():
        if isinstance(value, dict):
            raise ConfigError(f"{source}: [{key}] tables are not options; write the options "
                              f"as top-level 'key = value' lines. Valid keys: "
                              f"{', '.join(OPTIONS)}.")
    return values


def _paths_from(folder: Path, values: dict[str, Any]) -> dict[str, Any]:
    """A config file's relative ``data`` file and ``output_dir`` read from the file's
    ``folder`` (as a command line's are read from the working directory)."""
    for key in ("data", "output_dir"):
        value = values.get(key)
        is_dataset = key == "data" and value in datasets.list()
        if isinstance(value, str) and not is_dataset and not Path(value).is_absolute():
            values[key] = str(folder / value)
    return values


def resolve(file: str | Path | None, flags: Mapping[str, Any]) -> RunConfig:
    """The config from a TOML ``file`` (optional) with ``flags`` overriding its values."""
    values: dict[str, Any] = {}
    if file is not None:
        values.update(_paths_from(Path(file).parent, parse(read_toml(file), str(file))))
    values.update(parse(flags, COMMAND_LINE))
    source = COMMAND_LINE if file is None else f"{file} (with the command line)"
    return _checked(RunConfig(**values), source)
