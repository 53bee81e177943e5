"""``deeprecipe gradcheck``: prints the table, exits 1 when the check fails (a CI guard).

Exit 1 means a block reads "worry"; a check with no verdict (every block within the
finite-difference noise floor) says so and exits 0, like one that passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli, gradcheck
from deeprecipe.gradcheck import (
    GREAT,
    INCONCLUSIVE,
    LOOK_CLOSER,
    UNINFORMATIVE,
    WORRY,
    BlockReport,
    GradcheckReport,
)
from gradients import plant_doubled_dW

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def saved_model(tmp_path: Path) -> Path:
    model = dr.Sequential([dr.Dense(8, "tanh"), dr.Dense(10, "softmax")], input_dim=64, l2=0.3)
    return model.save(tmp_path / "model")


def test_a_correct_model_passes_with_exit_code_0(saved_model: Path, capsys: Capsys) -> None:
    assert cli.main(["gradcheck", str(saved_model), "--rows", "8"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("at the model's own weights (8 rows)\n")
    assert "gradient check passed" in out
    for block in ("dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b"):
        assert block in out
    assert "analytic" in out and "numeric" in out


def test_a_planted_bug_fails_with_exit_code_1(saved_model: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: Capsys) -> None:
    plant_doubled_dW(monkeypatch, "dense_2")
    assert cli.main(["gradcheck", str(saved_model), "--rows", "8", "--mode", "sampled"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "dense_2.W" in out and "doubled" in out


@pytest.fixture
def flat_model(tmp_path: Path) -> Path:
    """Every weight 0: on the first 10 digits (one of each class) every gradient is 0 up to
    rounding, so every block is uninformative."""
    model = dr.Sequential([dr.Dense(8, "tanh"), dr.Dense(10, "softmax")], input_dim=64, l2=0.3)
    model.set_parameters(np.zeros_like(model.flatten()))
    return model.save(tmp_path / "flat")


def test_a_check_with_no_verdict_exits_0_and_says_so(flat_model: Path, capsys: Capsys) -> None:
    assert cli.main(["gradcheck", str(flat_model), "--rows", "10"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "gradient check no verdict: every block uninformative" in out
    assert "FAILED" not in out and "passed" not in out


def test_a_check_with_no_verdict_as_json_is_neither_passed_nor_failed(flat_model: Path,
                                                                     capsys: Capsys) -> None:
    assert cli.main(["gradcheck", str(flat_model), "--rows", "10", "--json"]) == cli.EXIT_OK
    report = json.loads(capsys.readouterr().out)["current"]
    assert report["verdict"] == UNINFORMATIVE
    assert report["passed"] is False and report["failed"] is False


def report_reading(verdict: str) -> GradcheckReport:
    """A check whose one judged block reads ``verdict`` beside an uninformative one."""
    difference = {GREAT: 1e-8, LOOK_CLOSER: 1e-5, INCONCLUSIVE: 1e-2, WORRY: 0.5}.get(verdict, 0.9)
    blocks = {"dense_1.W": BlockReport("dense_1.W", (64, 8), difference, verdict, noise=1e-2),
              "dense_1.b": BlockReport("dense_1.b", (8,), 0.9, UNINFORMATIVE, noise=2.0)}
    return GradcheckReport(difference=difference, verdict=verdict, blocks=blocks, mode="full",
                           epsilon=1e-7)


@pytest.mark.parametrize(("verdicts", "code"), [
    ((GREAT,), cli.EXIT_OK),
    ((LOOK_CLOSER,), cli.EXIT_OK),
    ((INCONCLUSIVE,), cli.EXIT_OK),
    ((UNINFORMATIVE,), cli.EXIT_OK),
    ((WORRY,), cli.EXIT_FAILED_CHECK),
    ((UNINFORMATIVE, INCONCLUSIVE), cli.EXIT_OK),
    ((UNINFORMATIVE, WORRY), cli.EXIT_FAILED_CHECK),
])
def test_exit_1_only_when_a_block_reads_worry(saved_model: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: Capsys, verdicts: tuple[str, ...],
                                              code: int) -> None:
    points = ("current", "init")[: len(verdicts)]
    reports = dict(zip(points, map(report_reading, verdicts), strict=True))
    monkeypatch.setattr(gradcheck, "check_model", lambda *args, **options: reports)
    assert cli.main(["gradcheck", str(saved_model), "--rows", "8",
                     "--points", ",".join(points)]) == code
    assert ("FAILED" in capsys.readouterr().out) == (code == cli.EXIT_FAILED_CHECK)


def test_json_output_and_points(saved_model: Path, capsys: Capsys) -> None:
    code = cli.main(["gradcheck", str(saved_model), "--rows", "8", "--json",
                     "--points", "init,trained", "--mode", "directional"])
    assert code == cli.EXIT_OK
    reports = json.loads(capsys.readouterr().out)
    assert set(reports) == {"init", "trained"}
    assert all(report["passed"] for report in reports.values())


def test_a_config_file_is_checked_freshly_initialized(saved_model: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text((saved_model / "config.json").read_text())
    assert cli.main(["gradcheck", str(config), "--rows", "8", "--mode", "sampled"]) == 0


def test_npz_data(saved_model: Path, tmp_path: Path) -> None:
    X, y = dr.datasets.load("digits")
    np.savez(tmp_path / "d.npz", X=X[:40], y=y[:40])
    assert cli.main(["gradcheck", str(saved_model), "--data", str(tmp_path / "d.npz")]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["gradcheck", "no/such/model"],
        ["gradcheck", "MODEL", "--data", "nope.txt"],
        ["gradcheck", "MODEL", "--data", "x.csv"],
        ["gradcheck", "MODEL", "--epsilon", "0"],
        ["gradcheck", "MODEL", "--points", "later"],
    ],
)
def test_usage_errors_exit_2_with_one_line(saved_model: Path, argv: list[str],
                                           capsys: Capsys) -> None:
    argv = [str(saved_model) if a == "MODEL" else a for a in argv]
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


@pytest.mark.parametrize(("options", "message"), [
    (["--rows", "0"], "--rows must be a positive integer; received --rows=0."),
    (["--points", "init,later"], "--points must be a comma-separated list of current, init, "
     "trained; received --points='init,later'."),
    (["--data", "iris"], "--data must have 64 feature columns (the model's input_dim); "
     "received --data='iris' with 4."),
])
def test_bad_options_are_named_in_the_error(saved_model: Path, capsys: Capsys, options: list[str],
                                            message: str) -> None:
    assert cli.main(["gradcheck", str(saved_model), *options]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_every_checkpoint_name_has_a_title() -> None:
    assert tuple(cli.gradcheck.POINT_TITLES) == dr.gradcheck.POINTS
