"""``deeprecipe gradcheck``: prints the table, exits 1 when the check fails (a CI guard)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import cli
from gradients import plant_doubled_dW


@pytest.fixture
def saved_model(tmp_path: Path) -> Path:
    model = dr.Sequential([dr.Dense(8, "tanh"), dr.Dense(10, "softmax")], input_dim=64, l2=0.3)
    return model.save(tmp_path / "model")


def test_a_correct_model_passes_with_exit_code_0(saved_model: Path, capsys) -> None:
    assert cli.main(["gradcheck", str(saved_model), "--rows", "8"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("at the model's own weights (8 rows)\n")
    assert "gradient check passed" in out
    for block in ("dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b"):
        assert block in out
    assert "analytic" in out and "numeric" in out


def test_a_planted_bug_fails_with_exit_code_1(saved_model: Path, monkeypatch, capsys) -> None:
    plant_doubled_dW(monkeypatch, "dense_2")
    assert cli.main(["gradcheck", str(saved_model), "--rows", "8", "--mode", "sampled"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "dense_2.W" in out and "doubled" in out


def test_json_output_and_points(saved_model: Path, capsys) -> None:
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
def test_usage_errors_exit_2_with_one_line(saved_model: Path, argv: list[str], capsys) -> None:
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
def test_bad_options_are_named_in_the_error(saved_model: Path, capsys, options: list[str],
                                            message: str) -> None:
    assert cli.main(["gradcheck", str(saved_model), *options]) == cli.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_every_checkpoint_name_has_a_title() -> None:
    assert tuple(cli.POINT_TITLES) == dr.gradcheck.POINTS
