"""Every note the gradient checker prints is true for the case it prints it in (issue 13, G).

``J``'s precision comes from evidence a round ``J(θ)`` (0.5, 1.0, 0.0) cannot fake: the dtype
``fn`` returns its cost in, or values of ``J`` that differ and are all representable in a lower
precision. A wrong claim of float16 is no cosmetic slip: its noise floor (``|J|·1e-3 / ε``)
swallows a wrong gradient as "uninformative".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from deeprecipe import gradcheck
from deeprecipe.findings import Finding
from deeprecipe.gradcheck import INCONCLUSIVE, UNINFORMATIVE, WORRY, BlockReport
from gradients import codes, notes

Fn = Callable[[dict[str, np.ndarray]], Any]


def precision_notes(report: gradcheck.GradcheckReport) -> list[Finding]:
    return notes(report, "grad_cost_dtype")


def cost_dtype(dtype: str, evidence: str) -> list[Finding]:
    return [Finding("grad_cost_dtype", {"dtype": dtype, "evidence": evidence})]


# --- J's precision ------------------------------------------------------------------------


@pytest.mark.parametrize("j0", [0.5, 1.0, 0.0])
def test_a_python_float_cost_is_never_called_float16_for_its_round_value(j0: float) -> None:
    # J does not depend on θ: every value is j0, which every float type holds exactly
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return j0, {"w": np.zeros(2)}

    report = gradcheck.check(fn, {"w": np.array([0.3, -0.7])})
    assert precision_notes(report) == []
    assert report.verdict == UNINFORMATIVE and not report.failed
    assert "grad_flat" in codes(report)
    assert str(notes(report, "grad_flat")[0]).startswith(
        "uninformative: every gradient measured, numeric and analytic, is zero")


@pytest.mark.parametrize("j0", [0.5, 1.0, 2.0])
def test_a_gradient_for_a_parameter_j_ignores_fails_whatever_j_is(j0: float) -> None:
    # analytic 1 where J does not move: at float16's floor (8·ε₁₆·|J| / 1e-7 ≈ 1e4) this
    # read "uninformative" and the check hid the bug
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return j0, {"w": np.zeros(2), "b": np.ones(1)}

    report = gradcheck.check(fn, {"w": np.array([0.3, -0.7]), "b": np.zeros(1)})
    assert report.failed and report.failed_blocks == ["b"]
    assert precision_notes(report) == []


def test_a_block_measured_before_j_moves_is_judged_at_float64() -> None:
    # J(θ) = 0.5² + 0.75 = 1.0; b (measured first) does not move J, w does: b's floor was
    # float16's, taken from the round values seen so far, and the check passed
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w = p["w"]
        return float(w @ w + 0.75), {"b": np.ones(1), "w": 2 * w}

    report = gradcheck.check(fn, {"b": np.zeros(1), "w": np.array([0.5])})
    assert report.failed and report.failed_blocks == ["b"]
    assert report.blocks["w"].passed


def float32_least_squares(cast: Callable[[np.float32], Any]) -> tuple[Fn, dict[str, Any]]:
    """``½·mean((A w − t)²)`` computed in float32, its cost handed back through ``cast``."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 3)).astype(np.float32)
    t = rng.normal(size=20).astype(np.float32)

    def fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, np.ndarray]]:
        r = A @ p["w"].astype(np.float32) - t
        return cast(np.float32(0.5) * np.mean(r * r)), {"w": A.T @ r / np.float32(len(t))}

    return fn, {"w": np.array([0.3, -0.2, 0.5])}


def test_a_float32_cost_handed_back_as_a_python_float_is_named_by_its_values() -> None:
    fn, params = float32_least_squares(float)
    report = gradcheck.check(fn, params, epsilon=1e-3)
    assert precision_notes(report) == cost_dtype("float32", "values")
    assert str(precision_notes(report)[0]) == (
        "J is computed in float32 (every cost fn returned is a float32 number, and J took "
        "different values): the noise floor uses float32's rounding")
    assert report.passed


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_the_dtype_fn_returns_its_cost_in_names_the_precision(dtype: type) -> None:
    # J rounds to 1.0 at every θ in either type (values alone would say float16)
    def fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, np.ndarray]]:
        return dtype(1.0 + 1e-12 * p["w"][0]), {"w": np.zeros(1)}

    report = gradcheck.check(fn, {"w": np.array([0.4])})
    name = np.dtype(dtype).name
    assert precision_notes(report) == cost_dtype(name, "cost")
    assert str(precision_notes(report)[0]) == (
        f"J is computed in {name} (fn returns its cost as a {name}): the noise floor uses "
        f"{name}'s rounding")


def test_a_float16_cost_that_moves_is_named_float16() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, np.ndarray]]:
        w = p["w"].astype(np.float16)
        return np.float16(0.5) * (w @ w), {"w": p["w"]}

    report = gradcheck.check(fn, {"w": np.array([0.3, 0.7])}, epsilon=1e-2)
    assert precision_notes(report) == cost_dtype("float16", "cost")


def test_a_float64_cost_with_a_round_value_gets_no_precision_note() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[Any, dict[str, np.ndarray]]:
        return np.float64(0.5) + 0.0 * p["w"][0], {"w": np.zeros(1)}

    assert precision_notes(gradcheck.check(fn, {"w": np.array([2.0])})) == []


def test_a_float32_term_beside_a_python_float_term_names_the_term() -> None:
    fn32, params = float32_least_squares(lambda cost: cost)

    def fn(p: dict[str, np.ndarray]) -> dict[str, tuple[Any, dict[str, np.ndarray]]]:
        return {"data": fn32(p), "l2": (float(0.5 * p["w"] @ p["w"]), {"w": p["w"]})}

    report = gradcheck.check(fn, params, epsilon=1e-3)
    assert precision_notes(report) == cost_dtype("float32", "term")
    assert str(precision_notes(report)[0]).startswith(
        "J is computed in float32 (fn returns a term's cost as a float32)")
    assert report.passed


# --- the other notes ----------------------------------------------------------------------


def test_the_precision_gap_is_called_rounding_only_when_rounding_can_explain_it() -> None:
    # dJ/dw = (1 + w) − 1: in float32, 1 + 1e-8 is 1 and the gradient 0; in float64, 1e-8
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w = p["w"]
        return float(0.5 * np.sum(((1 + w) - 1) ** 2)), {"w": (1 + w) - 1}

    report = gradcheck.check(fn, {"w": np.array([1e-8, -2e-8], dtype=np.float32)})
    gap = [note for note in report.notes if note.code.startswith("grad_precision:")]
    assert [note.code for note in gap] == ["grad_precision:beyond"]
    assert gap[0].values["dtypes"] == "float32"
    assert "more than float32 rounding explains" in str(gap[0])


def test_a_precision_gap_within_rounding_is_called_rounding() -> None:
    fn, params = float32_least_squares(float)
    report = gradcheck.check(fn, {"w": params["w"].astype(np.float32)}, epsilon=1e-3)
    gap = [note for note in report.notes if note.code.startswith("grad_precision:")]
    assert [note.code for note in gap] == ["grad_precision:rounding"]
    assert str(gap[0]).endswith("; that is rounding, not a bug")


def test_a_gap_that_is_not_finite_is_called_an_overflow() -> None:
    note = gradcheck.core.precision_note({"float32"}, float("nan"))
    assert note == Finding("grad_precision:not_finite", {"dtypes": "float32"})
    assert str(note).endswith(
        "are not all finite where the float64 ones are (an overflow in float32?)")


def test_every_block_inconclusive_does_not_speak_of_the_rest() -> None:
    report = gradcheck.GradcheckReport(
        difference=3e-3, verdict=INCONCLUSIVE, mode="full", epsilon=1e-7,
        blocks={"W": BlockReport("W", (2, 2), 3e-3, INCONCLUSIVE, noise=1e-3)},
    )
    assert report.reading() == ("inconclusive in W (the noise floor could explain the "
                                "difference)")
    report.blocks["b"] = BlockReport("b", (2,), 0.5, UNINFORMATIVE, noise=1.0)
    assert report.reading().endswith("the difference), the rest uninformative")


def test_a_failing_check_as_json_says_failed() -> None:
    report = gradcheck.GradcheckReport(
        difference=0.5, verdict=WORRY, mode="full", epsilon=1e-7,
        blocks={"W": BlockReport("W", (2,), 0.5, WORRY)},
    )
    assert report.to_dict()["failed"] is True and report.to_dict()["passed"] is False
