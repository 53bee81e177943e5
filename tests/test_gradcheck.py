"""The gradient checker on hand-made cases: the notes' formula and bands, the report,
preflight, float32, noise-aware verdicts, kinks, and correct networks of every kind.

The planted-bug catalogue ("test the tester") is in ``test_gradcheck_bugs.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import gradcheck, layers
from deeprecipe.findings import Finding
from deeprecipe.gradcheck import (
    DEFAULT_BANDS,
    GREAT,
    INCONCLUSIVE,
    LOOK_CLOSER,
    UNINFORMATIVE,
    WORRY,
    BlockReport,
    GradcheckError,
    GradcheckReport,
)
from deeprecipe.gradcheck.core import judge
from gradients import codes, notes

MODES = gradcheck.MODES
CHEAP = {"samples": 4, "probes": 3}  # small: "sampled" samples, "directional" projects
Fn = Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]]


def _linear(x: float = 2.0, scale: float = 1.0) -> Fn:
    """``J(θ) = θ·x``; the analytic gradient ``x``, times ``scale`` (1: correct)."""
    return lambda p: (float(p["theta"] * x), {"theta": np.asarray(scale * x)})


def _cube(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    return float(p["theta"] ** 3), {"theta": 3 * p["theta"] ** 2}


def _model_report(report: GradcheckReport | dict[str, GradcheckReport]) -> GradcheckReport:
    assert isinstance(report, GradcheckReport)
    return report


# --- the notes' formula and thresholds ------------------------------------------------------


def test_notes_linear_example_difference_is_about_3e_10() -> None:
    # J(θ) = θ·x with x = 2 at θ = 4, ε = 1e-7: dθ = 2, and dθ_approx = (8.0000002 −
    # 7.9999998) / 2e-7 = 2 up to the rounding of θ ± ε, so the difference is ≈ 3e-10.
    report = gradcheck.check(_linear(), {"theta": np.array(4.0)})
    assert report.difference == pytest.approx(3e-10, rel=0.5)
    assert report.verdict == GREAT
    assert report.passed
    assert report.epsilon == 1e-7
    assert "grad_cost_dtype" not in codes(report)  # a float64 cost
    entry = report.blocks["theta"].worst[0]
    assert entry.analytic == 2.0
    assert entry.numeric == pytest.approx(2.0, abs=1e-8)


def test_notes_cubic_example_two_sided_is_3_0001_and_look_closer() -> None:
    # f(θ) = θ³ at θ = 1 with ε = 0.01 (the notes' figure):
    #   (1.01³ − 0.99³) / (2 · 0.01) = (1.030301 − 0.970299) / 0.02 = 3.0001,
    # against g(1) = 3θ² = 3: the difference 0.0001 / (3.0001 + 3) ≈ 1.7e-5 is the
    # truncation error ε²·f‴/6 = 1e-4, a "look closer" by the notes' bands.
    report = gradcheck.check(_cube, {"theta": np.array(1.0)}, epsilon=0.01)
    entry = report.blocks["theta"].worst[0]
    assert entry.numeric == pytest.approx(3.0001, abs=1e-10)
    assert entry.analytic == 3.0
    assert report.difference == pytest.approx(1e-4 / 6.0001, rel=1e-6)
    assert report.verdict == LOOK_CLOSER
    assert report.passed
    # one-sided it would be 3.0301: the checker is two-sided
    assert entry.numeric != pytest.approx(3.0301, abs=1e-3)


def test_zero_dimensional_parameters_and_python_scalars() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        a, b = p["a"], p["b"]
        return float(a**2 * b + np.sin(b)), {"a": 2 * a * b, "b": a**2 + np.cos(b)}

    report = gradcheck.check(fn, {"a": np.array(1.5), "b": 0.3})
    assert report.passed
    for name in ("a", "b"):
        block = report.blocks[name]
        assert block.shape == ()
        assert block.checked == 1
        assert block.worst[0].index == ()


def test_block_order_is_the_dict_order_never_sorted() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        cost = sum(float(np.sum(v**2)) for v in p.values())
        return cost, {k: 2 * v for k, v in reversed(p.items())}  # grads order does not matter

    params = {"zeta": np.ones(2), "alpha": np.ones((2, 2)), "mu": np.array(1.0)}
    report = gradcheck.check(fn, params)
    assert list(report.blocks) == ["zeta", "alpha", "mu"]
    assert list(json.loads(report.to_json())["blocks"]) == ["zeta", "alpha", "mu"]


def test_verdict_constants_and_default_bands() -> None:
    assert (GREAT, LOOK_CLOSER, WORRY, INCONCLUSIVE) == (
        "great", "look closer", "worry", "inconclusive")
    # the geometric midpoints of the notes' 1e-7, 1e-5 and 1e-3
    assert DEFAULT_BANDS == (1e-6, 1e-4)


@pytest.mark.parametrize(
    ("relative_error", "default", "tight"),
    [(4e-9, GREAT, LOOK_CLOSER), (4e-8, GREAT, WORRY)],
)
def test_bands_are_configurable(relative_error: float, default: str, tight: str) -> None:
    # J = θ·x is linear, so with ε = 1e-3 the numeric gradient is x to round-off (≈1e-12):
    # an analytic gradient off by 2r relatively gives a difference of about r.
    fn = _linear(scale=1 + 2 * relative_error)
    params = {"theta": np.array(4.0)}
    report = gradcheck.check(fn, params, 1e-3)
    assert report.difference == pytest.approx(relative_error, rel=1e-2)
    assert report.verdict == default
    tightened = gradcheck.check(fn, params, 1e-3, bands=(1e-9, 1e-8))
    assert tightened.verdict == tight
    assert tightened.blocks["theta"].verdict == tight
    assert tightened.bands == (1e-9, 1e-8)
    assert tightened.passed == (tight == LOOK_CLOSER)


@pytest.mark.parametrize(
    ("verdict", "passed", "failed"),
    [(GREAT, True, False), (LOOK_CLOSER, True, False), (WORRY, False, True),
     (INCONCLUSIVE, False, False), (UNINFORMATIVE, False, False)],
)
def test_passed_semantics(verdict: str, passed: bool, failed: bool) -> None:
    # passed: judged and agrees; failed: worry; neither: nothing could be judged
    block = BlockReport("w", (2,), 0.0, verdict)
    assert (block.passed, block.failed) == (passed, failed)
    report = GradcheckReport(0.0, verdict, {"w": block}, mode="full", epsilon=1e-7)
    assert (report.passed, report.failed) == (passed, failed)
    assert report.failed_blocks == (["w"] if failed else [])
    # one failing block fails a report whose overall verdict was great, and says so
    worried = GradcheckReport(0.0, GREAT, {"w": BlockReport("w", (2,), 1.0, WORRY)},
                              mode="full", epsilon=1e-7)
    assert not worried.passed and worried.failed and worried.verdict == WORRY


def test_block_with_zero_gradients_is_uninformative_with_difference_zero() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return float(np.sum(p["w"] ** 2)), {"w": 2 * p["w"], "unused": np.zeros((2, 3))}

    report = gradcheck.check(fn, {"w": np.array([1.0, -2.0]), "unused": np.ones((2, 3))})
    unused = report.blocks["unused"]
    assert unused.difference == 0.0
    assert unused.uninformative and unused.verdict == UNINFORMATIVE
    assert not unused.failed  # listed, never a failure
    assert not report.blocks["w"].uninformative
    assert report.passed


# --- the report ------------------------------------------------------------------------------


def _one_wrong_entry(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    W, b = p["W"], p["b"]
    cost = float(np.sum(np.sin(W)) + np.sum(b**2))
    dW = np.cos(W)
    dW[1, 2] += 1.0  # the planted error: one entry of W
    return cost, {"W": dW, "b": 2 * b}


ONE_WRONG = {"W": np.linspace(-1, 1, 12).reshape(3, 4), "b": np.array([0.5, -0.25])}


def test_report_blocks_shape_difference_verdict_and_worst_entries() -> None:
    report = gradcheck.check(_one_wrong_entry, ONE_WRONG)
    W, b = report.blocks["W"], report.blocks["b"]
    assert (W.shape, b.shape) == ((3, 4), (2,))
    assert W.checked == 12
    assert W.verdict == WORRY and not W.passed
    assert b.verdict == GREAT and b.difference < 1e-7
    assert report.failed_blocks == ["W"]
    worst = W.worst[0]
    assert worst.name == "W"
    assert worst.index == (1, 2)  # in the block's own shape, not the flat θ
    assert worst.numeric == pytest.approx(np.cos(ONE_WRONG["W"][1, 2]), abs=1e-7)
    assert worst.analytic == pytest.approx(np.cos(ONE_WRONG["W"][1, 2]) + 1.0)
    assert report.worst[0] == worst  # the report's worst entries: largest error first
    assert "analytic" in str(worst) and "numeric" in str(worst)


def test_table_json_and_summary() -> None:
    report = gradcheck.check(_one_wrong_entry, ONE_WRONG)
    table = report.table()
    for words in ("W", "b", "analytic", "numeric", WORRY):
        assert words in table
    data = json.loads(report.to_json())
    assert data["passed"] is False
    assert data["verdict"] == report.verdict
    assert data["blocks"]["W"]["verdict"] == WORRY
    assert data["blocks"]["W"]["worst"][0]["index"] == [1, 2]
    summary = report.summary()
    assert summary.startswith("gradient check FAILED: worry in W (")
    assert "\n" not in summary
    assert "passed" in gradcheck.check(_linear(), {"theta": np.array(4.0)}).summary()


def test_per_block_view_catches_a_x4_bias_bug_the_global_norm_hides() -> None:
    rng = np.random.default_rng(0)
    A = rng.normal(size=(40, 30))
    t = rng.normal(size=(40, 20))

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        r = A @ p["W"] + p["b"] - t
        m = len(A)
        cost = 0.5 * float(np.sum(r**2)) / m
        return cost, {"W": A.T @ r / m, "b": 4 * r.sum(axis=0) / m}  # db: 4/m, not 1/m

    W = rng.normal(size=(30, 20))
    # a residual of mean 1e-4: the bias gradient is tiny next to the weight gradient
    params = {"W": W, "b": -(A @ W - t).mean(axis=0) + 1e-4}
    report = gradcheck.check(fn, params)
    assert report.difference < DEFAULT_BANDS[1]  # the notes' one number looks fine ...
    assert report.blocks["W"].passed
    assert report.blocks["b"].verdict == WORRY  # ... the per-block view does not
    assert report.failed_blocks == ["b"]
    assert not report.passed
    # the bias gradient is small, so its numeric values carry ~1e-4 relative round-off
    finding = report.blocks["b"].finding
    assert finding is not None and finding.code == "grad_scale"
    assert finding.values["c"] == pytest.approx(4, abs=0.01)


SCALES = [
    (0.0, "grad_missing"),
    (-1.0, "grad_flipped"),
    (2.0, "grad_doubled"),
    (0.5, "grad_halved"),
    (10.0, "grad_missing_m"),  # m = batch_size = 10
    (0.1, "grad_extra_m"),
    (3.0, "grad_scale"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("scale", "code"), SCALES)
def test_pure_scale_errors_are_named(scale: float, code: str, mode: str) -> None:
    rng = np.random.default_rng(0)
    c = rng.normal(size=(6, 5))

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w, b = p["w"], p["b"]
        cost = float(np.sum(c * np.sin(w)) + np.sum(b**2))
        return cost, {"w": scale * c * np.cos(w), "b": 2 * b}

    params = {"w": rng.normal(size=(6, 5)), "b": np.array([0.5, -1.0])}
    report = gradcheck.check(fn, params, mode=mode, batch_size=10, **CHEAP)
    assert report.failed_blocks == ["w"]
    finding = report.blocks["w"].finding
    assert finding is not None and finding.code == code
    if code == "grad_scale":
        assert finding.values["c"] == pytest.approx(scale, rel=5e-4)
    if code.endswith("_m"):
        assert finding.values["m"] == 10
    assert report.findings == [Finding("grad_block", {"block": "w", "then": code,
                                                      **finding.values})]


# --- preflight -----------------------------------------------------------------------------


def test_non_deterministic_cost_is_refused_with_a_hint_about_dropout() -> None:
    rng = np.random.default_rng(0)

    def noisy(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return float(np.sum(p["w"] ** 2) + 1e-3 * rng.random()), {"w": 2 * p["w"]}

    with pytest.raises(GradcheckError, match="dropout"):
        gradcheck.check(noisy, {"w": np.ones(3)})


def test_a_cost_that_changes_its_parameters_is_refused() -> None:
    def updates(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        cost = float(np.sum(p["w"] ** 2))
        p["w"] -= 0.1 * 2 * p["w"]  # an optimizer step left in the cost
        return cost, {"w": 2 * p["w"]}

    with pytest.raises(GradcheckError, match="'w'"):
        gradcheck.check(updates, {"w": np.ones(3)})


def test_gradcheck_error_is_a_value_error() -> None:
    assert issubclass(GradcheckError, ValueError)


def test_wrong_gradient_keys_are_an_error() -> None:
    def misnamed(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return float(np.sum(p["w"] ** 2)), {"W": 2 * p["w"]}

    with pytest.raises(GradcheckError, match=r"missing \['w'\], unknown \['W'\]"):
        gradcheck.check(misnamed, {"w": np.ones(3)})


def test_an_extra_gradient_key_is_an_error_not_ignored() -> None:
    def extra(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return float(np.sum(p["w"] ** 2)), {"w": 2 * p["w"], "dense_1.w": p["w"]}

    with pytest.raises(GradcheckError, match=r"missing \[\], unknown \['dense_1.w'\]"):
        gradcheck.check(extra, {"w": np.ones(3)})


def test_a_cost_that_is_not_a_scalar_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match=r"cost must be a scalar; received a cost of shape \(3,\)"):
        gradcheck.check(lambda p: (p["w"] ** 2, {"w": 2 * p["w"]}), {"w": np.ones(3)})


@pytest.mark.parametrize("cost", [np.nan, np.inf])
def test_a_non_finite_cost_is_refused_naming_it(cost: float) -> None:
    with pytest.raises(GradcheckError, match=rf"J\(θ\) must be finite .* J\(θ\)={cost}"):
        gradcheck.check(lambda p: (cost, {"w": 2 * p["w"]}), {"w": np.ones(3)})


def test_check_model_refuses_a_model_whose_cost_overflows() -> None:
    model = dr.Sequential([dr.Dense(4, "relu"), dr.Dense(1, "sigmoid")], input_dim=3,
                          dtype="float64")
    model.theta[:] = 1e200
    X, y = np.ones((5, 3)), np.array([0, 1, 0, 1, 1])
    with np.errstate(all="ignore"), pytest.raises(GradcheckError, match="must be finite"):
        gradcheck.check_model(model, X, y)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_analytic_gradient_fails_its_block_and_says_where(
        bad: float, mode: str) -> None:
    def broken(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        grad = 2 * p["w"]
        grad[1, 2] = bad
        return float(np.sum(p["w"] ** 2) + np.sum(p["b"] ** 2)), {"w": grad, "b": 2 * p["b"]}

    report = gradcheck.check(broken, {"w": np.ones((2, 3)), "b": np.ones(3)}, mode=mode)
    assert not report.passed and report.verdict == WORRY
    assert report.failed_blocks == ["w"]
    finding = report.blocks["w"].finding
    assert finding.code == "grad_not_finite"
    assert (finding.values["count"], finding.values["index"]) == (1, (1, 2))
    assert str(finding.values["value"]) == str(bad)  # nan, inf or -inf


@pytest.mark.parametrize("mode", MODES)
def test_a_huge_wrong_gradient_fails_instead_of_overflowing_the_norms(mode: str) -> None:
    def huge(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return float(np.sum(p["w"] ** 2)), {"w": np.array([1e300, 4.0])}

    with np.errstate(over="raise", invalid="raise"):
        report = gradcheck.check(huge, {"w": np.array([1.0, 2.0])}, mode=mode, **CHEAP)
    assert report.verdict == WORRY and report.difference == pytest.approx(1.0)
    finding = report.blocks["w"].finding  # not a pure scale: 1e300 vs 4
    assert finding is None or finding.code != "grad_scale"


def test_relative_difference_is_scale_free_and_nan_for_non_finite_values() -> None:
    numeric, analytic = np.array([3.0, -4.0]), np.array([3.0, -4.5])
    expected = gradcheck.relative_difference(numeric, analytic)
    assert gradcheck.relative_difference(1e300 * numeric, 1e300 * analytic) == \
        pytest.approx(expected, rel=1e-12)
    assert gradcheck.relative_difference(1e-300 * numeric, 1e-300 * analytic) == \
        pytest.approx(expected, rel=1e-12)
    assert np.isnan(gradcheck.relative_difference(numeric, np.array([np.inf, 0.0])))
    assert np.isnan(gradcheck.relative_difference(np.array([np.nan, 0.0]), analytic))
    assert gradcheck.relative_difference(np.zeros(2), np.zeros(2)) == 0.0


def test_a_nan_difference_is_worry_whatever_the_noise() -> None:
    assert judge(float("nan"), 1e-3) == WORRY
    assert judge(float("nan"), float("nan")) == WORRY


@pytest.mark.parametrize("bug", [True, False])
def test_a_transposed_gradient_of_a_square_matrix_is_named(bug: bool) -> None:
    X = np.random.default_rng(0).standard_normal((8, 5))

    def layer(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        A = np.tanh(X @ p["W"])
        dW = X.T @ (1 - A**2)  # (5, 5): a transposed dW has the right shape
        return float(np.sum(A)), {"W": dW.T if bug else dW}

    report = gradcheck.check(layer, {"W": np.random.default_rng(1).standard_normal((5, 5))})
    assert report.passed is not bug
    assert (report.blocks["W"].finding == Finding("grad_transposed")) is bug


def test_gradient_of_the_wrong_shape_fails_that_block_with_a_shape_finding() -> None:
    def transposed(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w, b = p["w"], p["b"]
        return float(np.sum(w**2) + np.sum(b**2)), {"w": 2 * w.T, "b": 2 * b}

    report = gradcheck.check(transposed, {"w": np.ones((2, 3)), "b": np.ones(3)})
    assert report.failed_blocks == ["w"]
    assert report.blocks["w"].finding == Finding("grad_shape", {"shape": (3, 2),
                                                                "expected": (2, 3)})
    assert report.blocks["b"].passed
    assert not report.passed
    assert [(f.code, f.values["block"], f.values["then"]) for f in report.findings] == \
        [("grad_block", "w", "grad_shape")]


# --- float32 and noise-aware verdicts -----------------------------------------------------


def test_float32_parameters_are_promoted_and_the_precision_gap_reported() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w = p["w"]
        return float(np.sum(np.sin(w) * w)), {"w": np.cos(w) * w + np.sin(w)}

    w32 = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    report = gradcheck.check(fn, {"w": w32})
    assert report.passed
    promoted = notes(report, "grad_promoted")
    assert promoted == [Finding("grad_promoted", {"dtypes": {"w": "float32"}})]
    assert str(promoted[0]) == "promoted to float64 for the check: w (float32)"
    precision = [note for note in report.notes if note.code.startswith("grad_precision:")]
    assert precision and precision[0].values["dtypes"] == "float32"
    assert "float64" in str(precision[0])
    assert w32.dtype == np.float32  # the caller's array is untouched


def _float32_cost(scale: float = 1.0) -> tuple[Fn, dict[str, np.ndarray]]:
    """A least-squares tanh fit whose cost and gradients are computed in float32."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 5)).astype(np.float32)
    t = rng.normal(size=20).astype(np.float32)

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w, b = p["w"].astype(np.float32), p["b"].astype(np.float32)
        a = np.tanh(A @ w + b)
        r = a - t
        cost = np.float32(0.5) * np.mean(r * r)
        dz = r * (1 - a * a) / np.float32(len(t))
        return float(cost), {"w": scale * (A.T @ dz), "b": dz.sum()}

    return fn, {"w": rng.normal(size=5) * 0.3, "b": np.array(0.1)}


@pytest.mark.parametrize("mode", MODES)
def test_a_float32_cost_at_epsilon_1e_7_is_uninformative_never_worry(mode: str) -> None:
    # float32 rounding over ε = 1e-7 swamps every gradient: nothing verified, nothing failed
    fn, params = _float32_cost()
    report = gradcheck.check(fn, params, 1e-7, mode=mode)
    assert report.verdict == UNINFORMATIVE
    assert all(block.verdict != WORRY for block in report.blocks.values())
    assert not report.passed and not report.failed
    assert "no verdict: every block uninformative" in report.summary()
    assert not report.findings  # noise is not a bug: nothing is named
    advice = notes(report, "grad_noise")
    assert [(a.values["verdict"], a.values["fix"]) for a in advice] == \
        [(UNINFORMATIVE, "larger_epsilon")]
    assert "help: compute the cost in float64 or use a larger epsilon (0.001 or 0.01)" \
        in str(advice[0])
    assert [note.values["dtype"] for note in notes(report, "grad_cost_dtype")] == ["float32"]


def test_a_too_large_epsilon_is_told_to_shrink_not_to_grow() -> None:
    params = {"t": np.linspace(0.5, 1.5, 6)}

    def cubed_sine(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        t = p["t"]
        return float(np.sum(np.sin(t) ** 3)), {"t": 3 * np.sin(t) ** 2 * np.cos(t)}

    report = gradcheck.check(cubed_sine, params, epsilon=0.1)  # correct, but ε is huge
    assert report.verdict == INCONCLUSIVE and not report.findings
    advice = notes(report, "grad_noise")
    assert [(a.values["verdict"], a.values["fix"]) for a in advice] == \
        [(INCONCLUSIVE, "smaller_epsilon")]
    assert str(advice[0]).endswith("help: use a smaller epsilon (1e-06 or 1e-05): at 0.1 "
                                   "truncation dominates")
    assert gradcheck.check(cubed_sine, params, epsilon=1e-6).verdict == GREAT


def test_the_worst_entries_come_from_the_failing_blocks() -> None:
    def one_bug(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        grads = {name: 2 * value for name, value in p.items()}
        grads["b"] = 4 * p["b"]  # doubled: b fails, w passes with near-zero errors
        return float(sum(np.sum(v**2) for v in p.values())), grads

    # directional: b (200 entries) is only probed, named as doubled, and has no entries;
    # w is small enough to be measured entry by entry, and agrees
    report = gradcheck.check(one_bug, {"w": np.ones((3, 3)), "b": np.ones(200)},
                             mode="directional")
    assert report.failed_blocks == ["b"]
    assert report.blocks["b"].finding.code == "grad_doubled"
    assert report.blocks["w"].worst  # measured, but not what report.worst shows
    assert {entry.name for entry in report.worst} <= {"b"}


@pytest.mark.parametrize("mode", MODES)
def test_a_float32_cost_with_a_sensible_epsilon_passes_and_a_x2_bug_is_caught(
        mode: str) -> None:
    # float32 round-off ε₃₂·|J|/h and truncation h²·J‴ balance near h = ∛ε₃₂ ≈ 5e-3
    fn, params = _float32_cost()
    assert gradcheck.check(fn, params, 1e-3, mode=mode).passed
    buggy, params = _float32_cost(scale=2.0)
    report = gradcheck.check(buggy, params, 1e-3, mode=mode)
    assert report.verdict == WORRY
    assert report.failed_blocks == ["w"]
    assert report.blocks["w"].finding.code == "grad_doubled"


# --- kinks ---------------------------------------------------------------------------------


def _kinked(bug: bool = False) -> tuple[Fn, dict[str, np.ndarray]]:
    """``J = Σ relu(X w) + ½ Σ |v| + Σ v²`` with ``X w`` and ``v`` at and near 0.

    ``(X w)[0] = 0`` exactly (every coordinate of ``w`` crosses it) and ``(X w)[1] = 1e-9``;
    ``v`` has entries at 0 and within ε = 1e-7 of it. The analytic gradient takes the
    derivative 0 at the kinks, as ReLU and ``sign`` do.
    """
    rng = np.random.default_rng(0)
    w = rng.normal(size=3)
    X = rng.normal(size=(6, 3))
    X[0, 2] = -(X[0, :2] @ w[:2]) / w[2]
    X[1, 2] = (1e-9 - X[1, :2] @ w[:2]) / w[2]
    v = np.array([0.0, 1e-9, -1e-9, 0.5, -0.3, 2e-8, 3e-8, 0.8])

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        z = X @ p["w"]
        v = p["v"]
        cost = float(np.sum(np.maximum(z, 0)) + 0.5 * np.sum(np.abs(v)) + np.sum(v**2))
        dv = 0.5 * np.sign(v) + 2 * v
        return cost, {"w": X.T @ (z > 0), "v": 2 * dv if bug else dv}

    return fn, {"w": w, "v": v}


@pytest.mark.parametrize("offset", [-8e-9, 8e-9])
def test_a_kink_that_epsilon_over_10_still_crosses_is_no_false_alarm(offset: float) -> None:
    # a ReLU unit 0.08·ε from its kink: ε and ε/10 both cross it, by different amounts, so
    # the one-sided slopes shrink like neither a smooth function's nor a passed kink's
    x, scale = np.array([1.0, 0.5, -2.0]), np.array([1.0, 2.0, 3.0])

    def relu_sum(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        z = x * p["w"] + p["b"]
        on = (z > 0) * scale
        return float(np.sum(np.maximum(z, 0) * scale)), {"w": np.array([on @ x]),
                                                         "b": np.array([on.sum()])}

    report = gradcheck.check(relu_sum, {"w": np.array([0.3]), "b": np.array([offset - 0.3])})
    assert report.verdict != WORRY, report.summary()
    assert notes(report, "grad_kinks")


@pytest.mark.parametrize("mode", MODES)
def test_check_passes_a_relu_and_abs_function_at_its_kinks(mode: str) -> None:
    fn, params = _kinked()
    report = gradcheck.check(fn, params, mode=mode, **CHEAP)
    assert report.passed, report.summary()
    assert report.blocks["w"].kinks > 0
    assert report.blocks["v"].kinks > 0
    assert notes(report, "grad_kinks")[0].values["kinks"] > 0


@pytest.mark.parametrize("mode", MODES)
def test_check_still_catches_a_bug_in_the_function_with_kinks(mode: str) -> None:
    fn, params = _kinked(bug=True)
    report = gradcheck.check(fn, params, mode=mode, **CHEAP)
    assert report.failed_blocks == ["v"]
    assert report.blocks["v"].finding.code == "grad_doubled"


X_NET = np.random.default_rng(1).normal(size=(10, 4))
Y_NET = np.arange(10) % 3


def _near_kink(activation: str, layer: int, offset: float = 1e-9) -> dr.Sequential:
    """A float64 net where unit 2 of ``dense_<layer>`` has ``Z = offset`` on example 3."""
    net = dr.Sequential([dr.Dense(6, activation), dr.Dense(5, activation),
                         dr.Dense(3, "softmax")], input_dim=4, seed=0, dtype="float64")
    params = net.named_parameters()
    params["dense_1.b"][:] = params["dense_2.b"][:] = 0.1
    x = X_NET if layer == 1 else net.layers[0].forward(net.params[0], X_NET, training=False)[0]
    W, b = params[f"dense_{layer}.W"], params[f"dense_{layer}.b"]
    b[2] -= (x @ W + b)[3, 2] - offset
    assert abs((x @ W + b)[3, 2] - offset) < 1e-15
    return net


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layer", [1, 2])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_check_model_passes_relu_nets_with_a_pre_activation_within_epsilon_of_0(
        activation: str, layer: int, mode: str) -> None:
    report = _model_report(gradcheck.check_model(_near_kink(activation, layer), X_NET, Y_NET,
                                                 mode=mode, **CHEAP))
    assert report.passed, report.summary()
    assert report.blocks[f"dense_{layer}.b"].kinks > 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("offset", [0.0, 1e-9, -1e-9])
def test_check_model_catches_a_bug_next_to_a_kink(offset: float, mode: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    original = layers.Dense.backward

    def doubled_dw1(self: layers.Dense, params: Any, dout: np.ndarray, cache: Any,
                    **options: Any) -> Any:
        dx, grads = original(self, params, dout, cache, **options)
        if params["W"].shape == (4, 6):  # dense_1 (layers hold no names)
            grads["W"] *= 2
        return dx, grads

    net = _near_kink("relu", 1, offset)
    monkeypatch.setattr(layers.Dense, "backward", doubled_dw1)
    report = _model_report(gradcheck.check_model(net, X_NET, Y_NET, mode=mode, **CHEAP))
    assert report.failed_blocks == ["dense_1.W"]


def test_check_model_checks_a_bias_whose_every_perturbation_crosses_a_kink(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Zero biases and an example whose layer-1 units are all dead: its ``Z2`` row is
    exactly 0, so every ``dense_2.b`` perturbation crosses a ReLU kink on one side. The
    other side keeps θ's branches, so the block is still measured (one-sided) and a
    doubled ``db2`` is caught."""
    net = dr.Sequential([dr.Dense(6, "relu"), dr.Dense(5, "relu"), dr.Dense(3, "softmax")],
                        input_dim=4, seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(10, 4))
    a1 = net.layers[0].forward(net.params[0], X, training=False)[0]
    assert (a1 == 0).all(axis=1).any()  # a dead row: Z2 = 0 there
    correct = _model_report(gradcheck.check_model(net, X, Y_NET))
    assert correct.passed
    assert correct.blocks["dense_2.b"].kinks == 5
    assert not correct.blocks["dense_2.b"].uninformative
    original = layers.Dense.backward

    def doubled_db2(self: layers.Dense, params: Any, dout: np.ndarray, cache: Any,
                    **options: Any) -> Any:
        dx, grads = original(self, params, dout, cache, **options)
        if params["W"].shape == (6, 5):  # dense_2 (layers hold no names)
            grads["b"] *= 2
        return dx, grads

    monkeypatch.setattr(layers.Dense, "backward", doubled_db2)
    for mode in MODES:
        report = _model_report(gradcheck.check_model(net, X, Y_NET, mode=mode))
        assert report.failed_blocks == ["dense_2.b"], mode


@pytest.mark.parametrize("mode", MODES)
def test_check_model_passes_l1_with_a_weight_exactly_zero(mode: str) -> None:
    net = dr.Sequential([dr.Dense(6, "tanh"), dr.Dense(3, "softmax")], input_dim=4, l1=0.5,
                        seed=0)
    net.named_parameters()["dense_1.W"][1, 2] = 0.0
    report = _model_report(gradcheck.check_model(net, X_NET, Y_NET, mode=mode, **CHEAP))
    assert report.passed, report.summary()
    assert report.blocks["dense_1.W"].kinks > 0
    assert set(report.terms) == {"data", "l1"}


# --- correct networks of every kind -------------------------------------------------------

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "linear"]
OUTPUTS = {
    "softmax": (3, np.arange(10) % 3),
    "sigmoid": (1, np.arange(10) % 2),
    "linear": (2, np.random.default_rng(2).normal(size=(10, 2))),
}
PENALTIES = [{}, {"l2": 0.5}, {"l1": 0.3}, {"l2": 0.5, "l1": 0.3}]


@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_correct_networks_pass_in_every_mode_at_init_and_after_training(
        hidden: str, output: str) -> None:
    units, y = OUTPUTS[output]
    penalty = PENALTIES[(HIDDEN.index(hidden) + list(OUTPUTS).index(output)) % 4]
    net = dr.Sequential([dr.Dense(6, hidden), dr.Dense(5, hidden), dr.Dense(units, output)],
                        input_dim=4, seed=1, **penalty)
    for mode in MODES:
        reports = gradcheck.check_model(net, X_NET, y, mode=mode, points=("init", "trained"),
                                        train_epochs=10, **CHEAP)
        assert isinstance(reports, dict)
        assert list(reports) == ["init", "trained"]
        for point, report in reports.items():
            assert report.passed, (mode, point, report.summary(), report.findings)
            assert set(report.terms) == ({"data", *penalty} if penalty else set())


def test_points_init_and_trained_are_different_parameters() -> None:
    net = dr.Sequential([dr.Dense(5, "relu"), dr.Dense(3, "softmax")], input_dim=4, seed=1)
    reports = gradcheck.check_model(net, X_NET, Y_NET, points=("init", "trained"))
    assert isinstance(reports, dict)
    init = reports["init"].blocks["dense_1.W"].worst[0]
    trained = reports["trained"].blocks["dense_1.W"].worst[0]
    assert init.analytic != trained.analytic
    single = gradcheck.check_model(net, X_NET, Y_NET, points="init")
    assert isinstance(single, GradcheckReport)


def _dropout_net() -> dr.Sequential:
    return dr.Sequential([dr.Dense(6, "relu"), dr.Dropout(0.7), dr.Dense(5, "tanh"),
                          dr.Dropout(0.8), dr.Dense(3, "softmax")], input_dim=4, seed=0)


@pytest.mark.parametrize("mode", MODES)
def test_dropout_fixed_passes_a_correct_network_with_dropout(mode: str) -> None:
    report = _model_report(gradcheck.check_model(_dropout_net(), X_NET, Y_NET, mode=mode,
                                                 dropout="fixed", **CHEAP))
    assert report.passed, report.summary()
    assert "grad_dropout:fixed" in codes(report)


def test_dropout_off_says_so() -> None:
    report = _model_report(gradcheck.check_model(_dropout_net(), X_NET, Y_NET))
    assert report.passed
    assert "grad_dropout:off" in codes(report)
    assert str(notes(report, "grad_dropout:off")[0]) == "dropout off (keep_prob = 1)"


def test_float32_model_is_checked_in_float64_and_says_so() -> None:
    net = dr.Sequential([dr.Dense(5, "tanh"), dr.Dense(3, "softmax")], input_dim=4, seed=0)
    assert net.dtype == np.float32
    theta = net.theta.copy()
    report = _model_report(gradcheck.check_model(net, X_NET, Y_NET))
    assert report.passed
    assert report.notes[0] == Finding("grad_promoted_copy", {"dtype": "float32",
                                                             "what": "model"})
    assert str(report.notes[0]).startswith("promoted the float32 model to float64 for the "
                                           "check (on a copy; your model is unchanged)")
    assert np.array_equal(net.theta, theta)


def test_regularized_model_reports_each_term() -> None:
    net = dr.Sequential([dr.Dense(5, "tanh"), dr.Dense(3, "softmax")], input_dim=4, l2=0.7,
                        l1=0.2, seed=0)
    report = _model_report(gradcheck.check_model(net, X_NET, Y_NET))
    assert list(report.terms) == ["data", "l2", "l1"]
    assert all(term.passed for term in report.terms.values())
    # the penalty terms touch only the weights: their bias blocks are uninformative zeros
    assert report.terms["l2"].blocks["dense_1.b"].uninformative
    plain = dr.Sequential([dr.Dense(5, "tanh"), dr.Dense(3, "softmax")], input_dim=4, seed=0)
    assert _model_report(gradcheck.check_model(plain, X_NET, Y_NET)).terms == {}


# --- option errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "argument"),
    [({"mode": "fast"}, "mode"), ({"epsilon": 0.0}, "epsilon"), ({"epsilon": -1e-7}, "epsilon"),
     ({"samples": 0}, "samples"), ({"probes": 0}, "probes"), ({"bands": (1e-4, 1e-6)}, "bands"),
     ({"worst": -1}, "worst"), ({"batch_size": 0}, "batch_size"),
     ({"batch_size": -5}, "batch_size")],
)
def test_check_option_errors_name_the_argument(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=f"check: {argument} must be"):
        gradcheck.check(_linear(), {"theta": np.array(4.0)}, **options)


@pytest.mark.parametrize(("fn", "message"), [
    (lambda p: ("1.0", {"w": 2 * p["w"]}), "fn's cost must be a real number; received '1.0'"),
    (lambda p: (None, {"w": 2 * p["w"]}), "fn's cost must be a real number; received None"),
    (lambda p: (1 + 2j, {"w": 2 * p["w"]}), "fn's cost must be a real number; received (1+2j)"),
    (lambda p: ({"w": 2 * p["w"]}, 5.0), "fn must return (cost, grads) in that order"),
], ids=["text", "none", "complex", "swapped"])
def test_what_fn_returns_is_checked_by_name(fn: Fn, message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        gradcheck.check(fn, {"w": np.ones(2)})


def test_params_that_are_not_numbers_are_named() -> None:
    with pytest.raises(TypeError, match=r"check: params\['w'\] must be a numeric array; "
                       r"received 'abc'"):
        gradcheck.check(lambda p: (1.0, {"w": 0.0}), {"w": "abc"})


@pytest.mark.parametrize(
    ("options", "argument"),
    [({"mode": "fast"}, "mode"), ({"epsilon": 0}, "epsilon"), ({"dropout": "on"}, "dropout"),
     ({"points": "later"}, "points"), ({"points": ("init", "finished")}, "points")],
)
def test_check_model_option_errors_name_the_argument(options: dict[str, Any],
                                                     argument: str) -> None:
    net = dr.Sequential([dr.Dense(3, "softmax")], input_dim=4)
    with pytest.raises(ValueError, match=f"check_model: {argument} must be"):
        gradcheck.check_model(net, X_NET, Y_NET, **options)


def test_check_model_refuses_what_is_not_a_sequential() -> None:
    with pytest.raises(TypeError, match="Sequential"):
        gradcheck.check_model(object(), X_NET, Y_NET)  # type: ignore[arg-type]


# --- a new layer with parameters: build, forward and backward are enough -----------------


class Scale(layers.Layer):
    """``x * s + t`` per feature: a layer that implements only the three contract methods,
    so the checker runs it through the generic defaults (one forward pass per coordinate)."""

    kind = "scale"

    def __init__(self, bug: float = 1.0) -> None:
        self.bug = bug

    def build(self, input_dim: int, rng: np.random.Generator, dtype: np.dtype) -> Any:
        return {"s": rng.uniform(0.5, 1.5, input_dim).astype(dtype),
                "t": rng.normal(size=input_dim).astype(dtype)}, input_dim

    def forward(self, params: Any, x: np.ndarray, *, training: bool, rng: Any = None) -> Any:
        return x * params["s"] + params["t"], x

    def backward(self, params: Any, dout: np.ndarray, cache: Any, *, out: Any = None,
                 input_grad: bool = True) -> Any:
        grads = out if out is not None else {}
        grads["s"] = np.sum(dout * cache, axis=0, out=grads.get("s"))
        grads["s"] *= self.bug
        grads["t"] = np.sum(dout, axis=0, out=grads.get("t"))
        return (dout * params["s"] if input_grad else None), grads


@pytest.mark.parametrize("mode", MODES)
def test_a_new_layer_works_with_the_checker_through_the_contract_alone(mode: str) -> None:
    def net(scale: Scale) -> dr.Sequential:
        return dr.Sequential([dr.Dense(5, "relu"), scale, dr.Dense(3, "softmax")],
                             input_dim=4, l2=0.3, seed=0, dtype="float64")

    report = _model_report(gradcheck.check_model(net(Scale()), X_NET, Y_NET, mode=mode,
                                                 **CHEAP))
    assert report.passed, report.summary()
    assert list(report.blocks)[2:4] == ["scale_1.s", "scale_1.t"]
    buggy = _model_report(gradcheck.check_model(net(Scale(bug=2.0)), X_NET, Y_NET, mode=mode,
                                                **CHEAP))
    assert buggy.failed_blocks == ["scale_1.s"], buggy.summary()
    trained = net(Scale())
    before = trained.theta.copy()
    trained.fit(X_NET, Y_NET, epochs=2, batch_size=5)  # training takes it too
    assert not np.array_equal(trained.theta, before)
