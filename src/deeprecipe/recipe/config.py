"""One candidate network and how it trains: :class:`Config`, and the model it builds.

A config is plain data (JSON round-trip, hashable); :meth:`Config.key` with a seed names a
trial, which is how a resumed tune recognizes the trials it has already finished.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace
from typing import Any

from .. import pipeline
from .._checks import fail, positive_int, real
from ..findings import jsonable_fields
from ..model import Sequential
from ..runconfig import OPTIONS, check

MAX_WIDTH = 512
MAX_DEPTH = 4
MAX_EPOCHS = 2000


@dataclass(frozen=True)
class Config:
    """A fully connected ReLU network (He initialization) and its training: one candidate.

    Each field is ``deeprecipe run``'s option of that name (:data:`deeprecipe.runconfig.OPTIONS`
    gives its meaning and checks it), within the search's bounds, but for four:
    ``keep_prob`` is one probability for every hidden layer (< 1: inverted dropout after
    each), ``augment`` says whether the trial augments its training images (with the
    transforms :func:`~deeprecipe.recipe.tune` was given), ``rows`` trains on a seeded,
    stratified sample of that many training rows (``None``: all of them; :mod:`.sample`
    says when ``tune`` samples), and
    ``train_fraction < 1`` on a nested, stratified part of those (a point of a learning
    curve). Early stopping watches the dev cost and restores the best weights. The
    defaults are the recipe's baseline.
    """

    hidden: tuple[int, ...] = (64,)
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    l2: float = 0.0
    keep_prob: float = 1.0
    epochs: int = 200
    patience: int = 15
    batch_size: int = 64
    augment: bool = False
    train_fraction: float = 1.0
    rows: int | None = None

    def __post_init__(self) -> None:
        """Each value checked by its option of :data:`~deeprecipe.runconfig.OPTIONS`, then
        the search's own bounds."""
        where = "Config"
        if not isinstance(self.hidden, (tuple, list)) or not 1 <= len(self.hidden) <= MAX_DEPTH:
            raise fail(where, "hidden", f"a tuple of 1 to {MAX_DEPTH} layer widths", self.hidden)
        for key in RUN_FIELDS:
            object.__setattr__(self, key, check(where, key, getattr(self, key)))
        if not isinstance(self.augment, bool):
            raise fail(where, "augment", "true or false", self.augment)
        if max(self.hidden) > MAX_WIDTH:
            raise fail(where, "hidden", f"widths of at most {MAX_WIDTH} units", self.hidden)
        if self.learning_rate >= 1:
            raise fail(where, "learning_rate", "in (0, 1)", self.learning_rate)
        if self.epochs > MAX_EPOCHS:
            raise fail(where, "epochs", f"at most {MAX_EPOCHS}", self.epochs)
        for key in ("keep_prob", "train_fraction"):
            real(where, key, getattr(self, key), "in (0, 1]", lambda value: 0 < value <= 1)
        if self.rows is not None:
            object.__setattr__(self, "rows", positive_int(where, "rows", self.rows))

    def replace(self, **changes: Any) -> Config:
        """A copy with ``changes`` (checked like a new config)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``hidden`` as a list; ``rows`` only when set (a config without a
        sample reads, and is named, as it was before samples)."""
        return jsonable_fields(self, *() if self.rows is not None else ("rows",))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        """The inverse of :meth:`to_dict`; unknown keys are refused."""
        names = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise fail("Config.from_dict", "values", "a mapping of " + ", ".join(sorted(names)),
                       unknown, "unknown keys")
        return cls(**{**values, "hidden": tuple(values.get("hidden", cls.hidden))})

    def key(self, seed: int) -> str:
        """A short stable name for training this config with ``seed`` (16 hex digits)."""
        text = json.dumps({"config": self.to_dict(), "seed": int(seed)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def regularized(self) -> bool:
        return self.l2 > 0 or self.keep_prob < 1

    def describe(self) -> str:
        """One line for people: ``"64-64 ReLU, adam lr 0.001, λ 0.1, keep_prob 0.8, …"``."""
        parts = ["-".join(map(str, self.hidden)) + " ReLU",
                 f"{self.optimizer} lr {self.learning_rate:g}"]
        if self.l2:
            parts.append(f"λ {self.l2:g}")
        if self.keep_prob < 1:
            parts.append(f"keep_prob {self.keep_prob:g}")
        if self.augment:
            parts.append("augmented")
        parts.append(f"≤{self.epochs} epochs (patience {self.patience})")
        if self.rows is not None:
            parts.append(f"a sample of {self.rows:,} rows")
        if self.train_fraction < 1:
            parts.append(f"{self.train_fraction:.0%} of the training "
                         + ("set" if self.rows is None else "sample"))
        return ", ".join(parts)


# the fields checked by run's option of the same name (run's keep_prob is one per layer;
# its augment names transforms, a trial's says whether it augments: with the tune's)
RUN_FIELDS = tuple(item.name for item in fields(Config) if item.name in OPTIONS
               and item.name not in ("keep_prob", "augment"))


def build_model(config: Config, input_dim: int, task: str, n_outputs: int,
                seed: int) -> Sequential:
    """The :class:`~deeprecipe.Sequential` of ``config`` (:func:`deeprecipe.pipeline.build_model`:
    He-initialized ReLU layers, then the output of ``task`` with ``n_outputs`` units)."""
    return pipeline.build_model(input_dim, task, n_outputs, config.hidden,
                                keep_prob=config.keep_prob, l2=config.l2, seed=seed)

