"""How many training rows a trial sees: the rule that lets ``tune`` work on big data.

Below :data:`SAMPLE_ABOVE` training rows every trial trains on all of them, as always.
Above it, the baseline and its variants train on a seeded sample of :data:`FIRST_ROWS`
rows, and the baseline sees at most :data:`TRIAL_EXAMPLES` examples (its epochs are cut
to fit), a trial on a sample at most :data:`MOST_EXAMPLES` (:func:`most_epochs`: "train
longer" stops there), so that a trial takes seconds to a minute or two whatever the size
of the data. The sample grows
(×:data:`GROWTH`, up to :data:`MOST_ROWS`: all the worker processes ever receive) when the
best model's variance is high: the notes' "more data cures variance", tried on a larger
sample instead of recommended, with as many examples (fewer epochs). The chosen
configuration is then trained once more, on all the training rows, in the tuning process
(:func:`final_epochs` says for how long).
"""

from __future__ import annotations

import math

from ..findings import Finding
from .config import MAX_EPOCHS, Config

SAMPLE_ABOVE = 200_000  # training rows above which trials train on samples
FIRST_ROWS = 100_000  # the baseline's sample
GROWTH = 4  # each larger sample is this many times the last
MOST_ROWS = 400_000  # the largest sample: what every worker process holds
TRIAL_EXAMPLES = 5_000_000  # the baseline on a sample: at most 50 epochs of 100,000 rows
MOST_EXAMPLES = 10_000_000  # any trial on a sample: at most 100 epochs of 100,000 rows
FINAL_EXAMPLES = 2  # the final training sees this many times the examples the trial needed


def baseline(config: Config, n_train: int) -> Config:
    """The baseline ``config`` on a training part of ``n_train`` rows: as it is, unless the
    rule fires and it sets no ``rows``; then on :data:`FIRST_ROWS` rows, with at most
    :data:`TRIAL_EXAMPLES` examples' worth of epochs."""
    rows = first_rows(n_train)
    if rows is None or config.rows is not None:
        return config
    return config.replace(rows=rows, epochs=min(config.epochs, max(1, TRIAL_EXAMPLES // rows)))


def most_epochs(config: Config) -> int:
    """The most epochs the search gives ``config``: :data:`~.config.MAX_EPOCHS`, or on a
    sample what :data:`MOST_EXAMPLES` allows."""
    if config.rows is None:
        return MAX_EPOCHS
    return max(1, min(MAX_EPOCHS, MOST_EXAMPLES // config.rows))


def grown(config: Config, n_train: int) -> Config | None:
    """``config`` on the next sample (:func:`larger`; ``rows=None`` when that is every row),
    its epochs cut so that it sees as many examples; ``None`` when the sample cannot
    grow."""
    rows = larger(config.rows, n_train)
    if rows is None or config.rows is None:
        return None
    epochs = max(1, round(config.epochs * config.rows / rows))
    return config.replace(rows=None if rows >= n_train else rows, epochs=epochs)


def first_rows(n_train: int) -> int | None:
    """The baseline's sample size for a training part of ``n_train`` rows (``None``: all of
    them, the rule does not fire)."""
    return FIRST_ROWS if n_train > SAMPLE_ABOVE else None


def shipped_rows(n_train: int) -> int:
    """How many training rows the worker processes receive: all of them unless the rule
    fires, else :data:`MOST_ROWS` (the largest sample a trial may train on)."""
    return n_train if first_rows(n_train) is None else min(n_train, MOST_ROWS)


def larger(rows: int | None, n_train: int) -> int | None:
    """The sample after one of ``rows`` rows: :data:`GROWTH` times larger, ``n_train`` (all
    rows) when that reaches them. ``None`` when the sample cannot grow: it is all the rows
    already (``rows=None``), or growing it would pass :data:`MOST_ROWS`."""
    if rows is None or rows >= n_train:
        return None
    grown = min(rows * GROWTH, n_train)
    return grown if grown <= MOST_ROWS else None


def final_epochs(best_epoch: int | None, epochs_run: int, trial_rows: int, n_train: int,
                 most: int) -> int:
    """Epochs for the final training on all ``n_train`` rows: enough to see
    :data:`FINAL_EXAMPLES` times the examples the sampled trial (``trial_rows`` rows) saw up
    to its best epoch (``best_epoch``, 0-based; ``None``: all ``epochs_run``), at least one
    and at most ``most`` (the configuration's own)."""
    examples = ((epochs_run if best_epoch is None else best_epoch + 1) * trial_rows
                * FINAL_EXAMPLES)
    return max(1, min(most, math.ceil(examples / n_train)))


def why(rows: int | None, parent_rows: int | None, n_train: int, *,
        final: bool = False) -> Finding:
    """Why a trial trains on ``rows`` rows of ``n_train`` (``None``: all of them), its
    parent having trained on ``parent_rows``; ``final``: the chosen configuration's last
    training."""
    values = {"rows": n_train if rows is None else rows, "n_train": n_train,
              "threshold": SAMPLE_ABOVE, "parent_rows": parent_rows}
    if final:
        return Finding("sample_final", values)
    if rows is None and parent_rows is None:
        return Finding("sample_all", values)
    if parent_rows is not None and (rows is None or rows > parent_rows):
        return Finding("sample_grown", values)
    return Finding("sample_first", {**values, "most": MOST_ROWS})
