"""Tests for ``deeprecipe.cli``: ``deeprecipe run`` splits with ``dr.data.split`` and fits the
Standardizer on the training set only; its constant-feature warning is one line of output."""

from __future__ import annotations

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli
from deeprecipe.data import Standardizer


def test_run_fits_the_standardizer_on_the_training_rows_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[np.ndarray] = []
    original_fit = Standardizer.fit

    def recording_fit(self: Standardizer, X: np.ndarray, *args: object) -> Standardizer:
        seen.append(np.array(X, copy=True))
        return original_fit(self, X, *args)

    monkeypatch.setattr(Standardizer, "fit", recording_fit)
    assert cli.main(["run", "--epochs", "1", "--seed", "3"]) == cli.EXIT_OK

    X, y = dr.datasets.load("digits")
    train = dr.data.split(X, y, seed=3).train
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], train.X)  # the training rows, and nothing else
    output = capsys.readouterr()
    # the constant-feature warning is one line of the output, not a Python warning
    assert output.out.count("note: Standardizer: 3 feature(s) have zero variance") == 1
    assert "Warning" not in output.err
    for name, size in (("train", 1079), ("dev", 359), ("test", 359)):
        assert name in output.out and str(size) in output.out


def test_prepare_standardizes_every_part_with_train_statistics() -> None:
    X, y = dr.datasets.load("digits")
    splits, notes = cli.prepare(X, y, seed=0)
    raw = dr.data.split(X, y, seed=0)
    mean = raw.train.X.mean(axis=0)
    std = np.where(raw.train.X.std(axis=0) > 0, raw.train.X.std(axis=0), 1.0)
    for name, part in splits.parts.items():
        np.testing.assert_allclose(part.X, (raw.parts[name].X - mean) / std, atol=1e-12)
    np.testing.assert_allclose(splits.train.X.mean(axis=0), 0, atol=1e-12)
    assert abs(splits.dev.X.mean()) > 1e-6  # dev is not re-centred on its own statistics
    assert len(notes) == 1 and "0, 32, 39" in notes[0]
