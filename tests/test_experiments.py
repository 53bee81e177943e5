"""The notes' lessons reproduce: zeros stay symmetric, ×10 starts high, He trains; L2 and
dropout shrink the train–dev gap; the dev set chooses and the test set is measured once.
The experiments run with their defaults, as a learner runs them."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from deeprecipe import Dense, Sequential, experiments
from deeprecipe.cli import main


@pytest.fixture(scope="module")
def initialization() -> experiments.Experiment:
    return experiments.initialization()


@pytest.fixture(scope="module")
def regularization() -> experiments.Experiment:
    return experiments.regularization()


# --- initialization ----------------------------------------------------------------------------


@pytest.mark.slow
def test_zeros_never_break_symmetry(initialization: experiments.Experiment) -> None:
    zeros = initialization.trial("zeros")
    for distinct, units in zeros.distinct_units.values():
        assert distinct == 1 and units > 1  # every hidden unit is the same unit
    first = zeros.model.params[0]["W"]
    assert np.all(first == first[:, :1])
    assert zeros.flow == "symmetric"
    assert zeros.train_accuracy == pytest.approx(0.5, abs=0.05)
    assert zeros.dev_accuracy == pytest.approx(0.5, abs=0.05)
    assert zeros.final_cost == pytest.approx(math.log(2), abs=1e-3)


@pytest.mark.slow
def test_he_trains_well_and_large_weights_start_with_a_huge_cost(
    initialization: experiments.Experiment,
) -> None:
    large, he = initialization.trial("random ×10"), initialization.trial("He")
    assert he.train_accuracy >= 0.95 and he.dev_accuracy >= 0.9
    assert he.final_cost < 0.1
    assert large.first_cost > 100 * he.first_cost
    assert large.costs[0] == pytest.approx(large.first_cost, rel=1e-9)  # epoch 0 is at init
    assert large.train_accuracy < he.train_accuracy
    assert all(distinct == units for distinct, units in he.distinct_units.values())


@pytest.mark.slow
def test_initialization_table_and_findings(initialization: experiments.Experiment) -> None:
    rows = initialization.table()
    assert [row["init"] for row in rows] == ["zeros", "random ×10", "He"]
    assert list(rows[0]) == ["init", "weights", "first cost", "final cost", "train acc",
                             "dev acc", "distinct units"]
    assert rows[0]["distinct units"] == "1 of 10"
    zeros = initialization.findings[0]
    assert zeros.code == "init_zeros" and zeros.values["flow"] == "symmetric"


# --- regularization ----------------------------------------------------------------------------


@pytest.mark.slow
def test_l2_and_dropout_reduce_the_train_dev_gap(regularization: experiments.Experiment) -> None:
    none = regularization.trial("none")
    assert none.train_accuracy >= 0.98  # big enough to overfit
    assert none.gap > 0.08
    for label in ("L2", "dropout"):
        trial = regularization.trial(label)
        assert trial.gap < none.gap - 0.03, label
        assert trial.dev_accuracy > none.dev_accuracy, label
    assert regularization.trial("L2").weight_norm < none.weight_norm / 10
    assert regularization.findings[0].code == "unregularized_overfits"
    l2_row = next(row for row in regularization.table() if row["method"] == "L2")
    assert l2_row["train cost"] == f"{regularization.trial('L2').train_costs[-1]:.3g}"  # data


def test_a_short_run_does_not_claim_the_noise_was_memorized() -> None:
    short = experiments.regularization(epochs=5)
    assert short.trial("none").gap < experiments.OVERFIT_GAP
    assert short.findings[0].code == "unregularized_fits"
    assert short.findings[0].values["gap"] == pytest.approx(100 * short.trial("none").gap)


# --- pages, CLI ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_write_experiment_writes_a_self_contained_page(
    regularization: experiments.Experiment, tmp_path: Path
) -> None:
    paths = experiments.write_experiment(regularization, tmp_path)
    assert set(paths) == {"report", "summary", "curves", "boundaries"}
    html = paths["report"].read_text(encoding="utf-8")
    assert not re.search(r"https?://", html)
    assert html.count('src="data:image/png;base64,') == 2
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert [t["label"] for t in summary["trials"]] == ["none", "L2", "dropout"]
    assert summary["trials"][1]["gap"] == pytest.approx(regularization.trial("L2").gap)


def test_distinct_units_counts_identical_units() -> None:
    model = Sequential([Dense(3, "relu", init="zeros"), Dense(1, "sigmoid", init="zeros")],
                       input_dim=2)
    assert experiments.distinct_units(model) == {"dense_1": (1, 3)}
    model.params[0]["W"][0, 2] = 1.0  # unit 3's incoming weights differ
    assert experiments.distinct_units(model) == {"dense_1": (2, 3)}
    model.params[1]["W"][1, 0] = 1.0  # unit 2's outgoing weight differs
    assert experiments.distinct_units(model) == {"dense_1": (3, 3)}


def test_unknown_experiment_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="initialization"):
        experiments.run("batchnorm")


@pytest.mark.slow
def test_cli_prints_the_table_and_writes_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "init"
    assert main(["experiment", "initialization", "--out", str(out), "--epochs", "30"]) == 0
    printed = capsys.readouterr().out
    assert "zeros" in printed and "random ×10" in printed and "He" in printed
    assert "first cost" in printed and "train acc" in printed
    for name in ("report.html", "summary.json", "costs.png", "hidden_units.png",
                 "boundaries.png"):
        assert (out / name).is_file(), name
    assert main(["experiment", "initialization", "--out", str(out), "--epochs", "30"]) == 0
    assert "replaced" in capsys.readouterr().out


@pytest.mark.parametrize(("options", "message"), [
    (["--epochs", "0"], "--epochs must be a positive integer; received --epochs=0."),
    (["--seed", "-2"], "--seed must be an integer from 0 to 4294967295 (2**32 - 1); received "
                       "--seed=-2."),
    (["--out", "{file}"], "--out must be a folder; received --out='{file}', a file."),
])
def test_cli_refuses_bad_options_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str],
        message: str) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    options = [option.format(file=file) for option in options]
    assert main(["experiment", "regularization", "--out", str(tmp_path), *options]) == 2
    err = capsys.readouterr().err
    assert message.format(file=file) in err and "Traceback" not in err
    assert file.read_text() == "mine"


@pytest.mark.parametrize("kind", ["run", "model", "other summary"])
def test_cli_never_writes_into_a_folder_an_experiment_did_not_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """--out naming a run's folder replaced its report.html and summary.json beside its
    run.json and model (exit 0, 'replaced')."""
    folder = tmp_path / kind
    folder.mkdir()
    files = {"run": ["run.json", "report.html", "summary.json"],
             "model": ["config.json", "weights.safetensors"], "other summary": ["summary.json"]}
    for name in files[kind]:
        (folder / name).write_text('{"name": "mine"}')
    assert main(["experiment", "initialization", "--out", str(folder), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"--out must be a new or empty folder, or one an experiment wrote; received " \
           f"--out='{folder}', which holds" in err
    assert all((folder / name).read_text() == '{"name": "mine"}' for name in files[kind])
    assert sorted(path.name for path in folder.iterdir()) == sorted(files[kind])


class EvaluationSpy:
    """Counts ``Sequential.evaluate`` calls on each of the experiment's sets, by model."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[Sequential, np.ndarray]] = []
        original = Sequential.evaluate

        def evaluate(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
            self.calls.append((model, X))
            return original(model, X, y)

        monkeypatch.setattr(Sequential, "evaluate", evaluate)

    def on(self, X: np.ndarray) -> list[Sequential]:
        return [model for model, seen in self.calls if seen is X]


@pytest.mark.parametrize("name", ["initialization", "regularization"])
def test_the_dev_set_chooses_and_the_test_set_is_measured_once(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # the issue: the networks were compared, and their curves drawn, on the test set
    spy = EvaluationSpy(monkeypatch)
    fits: list[np.ndarray] = []
    original_fit = Sequential.fit

    def fit(model: Sequential, X: np.ndarray, y: np.ndarray, **options: object) -> object:
        fits.append(options["validation_data"][0])  # type: ignore[index]
        return original_fit(model, X, y, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(Sequential, "fit", fit)
    experiment = experiments.run(name, epochs=20)
    train, dev, test = experiment.train, experiment.dev, experiment.test
    assert len(dev.y) == len(test.y) and not np.array_equal(dev.X, test.X)
    assert all(X is dev.X for X in fits)  # the curves are the dev set's
    chosen = experiment.trial(experiment.chosen)
    assert spy.on(test.X) == [chosen.model]  # one look at the test set, for the chosen one
    assert chosen.dev_accuracy == max(trial.dev_accuracy for trial in experiment.trials)
    assert experiment.test_accuracy == 1 - chosen.model.evaluate(test.X, test.y)["error"]
    assert all(not hasattr(trial, "test_accuracy") for trial in experiment.trials)
    assert all(trial.gap == trial.train_accuracy - trial.dev_accuracy
               for trial in experiment.trials)
    assert all("test" not in column for row in experiment.table() for column in row)
    assert experiment.findings[-1].code == "dev_chooses"
    assert experiment.findings[-1].values["label"] == experiment.chosen
    summary = experiment.to_dict()
    assert (summary["chosen"], summary["test_accuracy"]) == (
        experiment.chosen, experiment.test_accuracy)
    assert "test_accuracy" not in summary["trials"][0] and len(train.y) > 0


def test_the_curves_are_labelled_dev_and_the_captions_describe_what_is_drawn() -> None:
    # the curves' legend said "test" for the dev set's curves; the boundaries caption said
    # the held-out points were "squares, fainter", where the dev points are triangles drawn
    # in front and the training circles are the faint ones
    from matplotlib.collections import PathCollection

    from deeprecipe.report.plots import MARKERS

    experiment = experiments.regularization(epochs=5, n_train=40, n_test=40, hidden=8)
    drawn = experiments.figures(experiment)
    curves = [text.get_text() for text in drawn["curves"].legends[0].get_texts()]
    assert curves == ["train", "dev"]
    panel = drawn["boundaries"].axes[0]
    train, dev = (c for c in panel.collections if isinstance(c, PathCollection))
    assert len(train.get_offsets()) == len(experiment.train.y)
    assert len(dev.get_offsets()) == len(experiment.dev.y)
    assert train.get_alpha() < dev.get_alpha() and train.get_zorder() < dev.get_zorder()
    legend = [text.get_text() for text in drawn["boundaries"].axes[-1].get_legend().get_texts()]
    assert legend[-2:] == ["train", "dev"]  # the test set is not drawn
    shapes = {"o": "circles", "^": "triangles", "s": "squares"}
    for captions in experiments.CAPTIONS.values():
        caption = captions["boundaries"][1]
        assert f"training points (small, faint {shapes[MARKERS['train']]})" in caption
        assert f"dev points ({shapes[MARKERS['dev']]}, in front)" in caption
        assert shapes[MARKERS["test"]] not in caption and "fainter" not in caption
    assert "Train (solid) and dev (dashed)" in experiments.CAPTIONS["regularization"][
        "curves"][1]
