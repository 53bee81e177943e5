"""A correct network never fails the gradient check (issue 13, A).

A gradient below the finite-difference noise floor (a bias at the course's ×0.01
initialization, a bias at a minimum) makes its block *uninformative*: listed, never failed.
A kink exactly at θ (integer inputs and weights) is judged as a subgradient. The one-line
summary never contradicts the verdict. ``check`` can be told the terms of ``J``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.optimize import minimize

import deeprecipe as dr
from deeprecipe import gradcheck, layers
from deeprecipe.gradcheck import GREAT, LOOK_CLOSER, UNINFORMATIVE, WORRY
from gradients import course_network, notes

MODES = gradcheck.MODES
Fn = Callable[[dict[str, np.ndarray]], Any]

# --- the course's two-layer network, written by hand --------------------------------------


def moons(seed: int) -> tuple[np.ndarray, np.ndarray]:
    return dr.datasets.load("moons", n_samples=300, seed=seed)


def test_the_courses_network_at_its_initialization_passes_with_the_bias_uninformative() -> None:
    # was: "gradient check FAILED: difference 1.53e-07 (great) … failing blocks: b1
    # (inconclusive)": b1's gradient (≈ 5e-8) is within the noise floor (≈ 2.5e-8 · 3)
    fn, params = course_network(*moons(0), seed=1)
    report = gradcheck.check(fn, params)
    assert report.passed and not report.failed, report.summary()
    assert report.verdict in (GREAT, LOOK_CLOSER)
    assert report.blocks["b1"].verdict == UNINFORMATIVE
    assert report.blocks["W1"].passed and report.blocks["W2"].passed
    summary = report.summary()
    assert summary.startswith(f"gradient check passed: {report.verdict} (worst block ")
    assert "uninformative: b1" in summary and "FAILED" not in summary


def test_deeprecipes_own_tanh_sigmoid_network_at_random_init_passes_on_moons() -> None:
    # was: "FAILED: difference 8.90e-08 (great)", dense_1.b inconclusive
    X, y = moons(0)
    model = dr.Sequential([dr.Dense(4, "tanh", init="random"),
                           dr.Dense(1, "sigmoid", init="random")], input_dim=2, seed=0)
    report = gradcheck.check_model(model, X, y)
    assert report.passed and not report.failed, report.summary()


def test_the_54_correct_networks_of_the_sweep_all_pass() -> None:
    # moons of 300 points at 3 noise seeds, 3, 4 or 6 hidden units, 6 initialization seeds:
    # 52 of the 54 were reported FAILED (every one by check_model)
    failed = []
    for noise_seed in range(3):
        X, y = moons(noise_seed)
        for hidden in (3, 4, 6):
            for seed in range(6):
                fn, params = course_network(X, y, seed, hidden)
                model = dr.Sequential([dr.Dense(hidden, "tanh", init="random"),
                                       dr.Dense(1, "sigmoid", init="random")],
                                      input_dim=2, seed=seed)
                for report in (gradcheck.check(fn, params), gradcheck.check_model(model, X, y)):
                    if not report.passed:
                        failed.append(report.summary())
    assert failed == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("bug", "block"), [("dW1 doubled", "W1"), ("dW2 without 1/m", "W2"),
                                            ("db2 sign", "b2")])
def test_bugs_in_the_courses_network_at_its_initialization_are_still_caught(
        bug: str, block: str, mode: str) -> None:
    fn, params = course_network(*moons(0), seed=1, bug=bug)
    report = gradcheck.check(fn, params, mode=mode, samples=4, probes=3, batch_size=300)
    assert report.failed and report.verdict == WORRY
    assert report.failed_blocks == [block]
    assert report.summary().startswith(f"gradient check FAILED: worry in {block} (")


# --- the noise floor ------------------------------------------------------------------------


def test_an_analytic_gradient_clearly_above_the_floor_where_the_numeric_is_not_fails() -> None:
    # at the minimum of J the numeric gradient is 0 (below any floor); a bias gradient of
    # 1e-3 there is far above the floor: a bug, not noise
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w, b = p["w"], p["b"]
        return float(np.sum((w - 1) ** 2) + b @ b + 1.0), {"w": 2 * (w - 1), "b": 2 * b + 1e-3}

    report = gradcheck.check(fn, {"w": np.array([2.0, 3.0]), "b": np.zeros(2)})
    assert report.failed and report.failed_blocks == ["b"]
    assert report.blocks["b"].verdict == WORRY


def test_a_gradient_left_out_where_the_numeric_one_is_above_the_floor_fails() -> None:
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w, b = p["w"], p["b"]
        return float(np.sum(w**2) + 1e-4 * np.sum(b)), {"w": 2 * w, "b": np.zeros(2)}

    report = gradcheck.check(fn, {"w": np.array([2.0, 3.0]), "b": np.zeros(2)})
    assert report.failed_blocks == ["b"]
    assert report.blocks["b"].finding.code == "grad_missing"


def test_a_check_where_every_block_is_uninformative_is_no_pass_and_no_failure() -> None:
    # J = 1 + 1e-12·||w||²: every gradient is far below the floor of a J of order 1
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        return 1.0 + 1e-12 * float(p["w"] @ p["w"]), {"w": 2e-12 * p["w"]}

    report = gradcheck.check(fn, {"w": np.array([0.5, -0.25])})
    assert report.verdict == UNINFORMATIVE
    assert not report.passed and not report.failed
    assert report.summary().startswith("gradient check no verdict: every block uninformative")
    assert [note.values["verdict"] for note in notes(report, "grad_noise")] == [UNINFORMATIVE]


def at_a_minimum() -> tuple[dr.Sequential, np.ndarray, np.ndarray]:
    """``t = f0 + f1 > 0``: a network trained on 1,000 rows, then to the exact minimum of
    ``J`` (L2 with λ = 1) on 32 other rows, which it classifies without error: what a long
    run leaves on its training rows. ``(model, X, y)``, the first 32 rows those."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1032, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = dr.Sequential([dr.Dense(8, "tanh"), dr.Dense(1, "sigmoid")], input_dim=5,
                          l2=1.0, seed=3, dtype="float64")
    model.fit(X[32:], y[32:], epochs=20, batch_size=64, seed=3)

    def cost(theta: np.ndarray) -> tuple[float, np.ndarray]:
        model.set_parameters(theta)
        return model.cost_and_gradients(X[:32], y[:32])

    found = minimize(cost, model.flatten(), jac=True, method="L-BFGS-B",
                     options={"gtol": 1e-14, "ftol": 0.0, "maxiter": 5000})
    model.set_parameters(found.x)
    return model, X, y


def test_a_converged_network_is_never_failed_and_is_judged_on_other_rows() -> None:
    # was: "FAILED: difference 3.78e-01 (inconclusive)", every block inconclusive
    model, X, y = at_a_minimum()
    assert np.all(model.predict(X[:32]) == y[:32])
    for mode in MODES:
        report = gradcheck.check_model(model, X[:32], y[:32], mode=mode)
        assert report.verdict == UNINFORMATIVE and not report.failed, report.summary()
        assert "no verdict" in report.summary()
    # the run's check after training computes J on other rows (the dev part): informative
    assert gradcheck.check_model(model, X[32:], y[32:]).passed
# --- one line that never contradicts itself ---------------------------------------------------


@pytest.mark.parametrize("bug", [None, "dW1 doubled"])
def test_the_summary_names_the_state_and_verdict_consistently(bug: str | None) -> None:
    fn, params = course_network(*moons(0), seed=1, bug=bug)
    report = gradcheck.check(fn, params)
    data = report.to_dict()
    assert data["passed"] is report.passed and data["verdict"] == report.verdict
    state = {True: "passed", False: "FAILED"}[report.passed]
    assert report.summary().startswith(f"gradient check {state}: ")
    assert report.verdict in report.headline()
    assert (report.verdict == WORRY) is report.failed is (not report.passed)


# --- the terms of J ---------------------------------------------------------------------------


def with_l2(bug: bool) -> tuple[Fn, dict[str, np.ndarray]]:
    """The course's network with its L2 term ``(λ/2m)(||W1||² + ||W2||²)``, returned as two
    terms; ``bug`` leaves the L2 term's gradient out (the biases it does not touch are left
    out of its grads either way)."""
    fn, params = course_network(*moons(0), seed=1, hidden=4)
    params = {name: value * (100 if name.startswith("W") else 1)
              for name, value in params.items()}
    lambd, m = 0.7, 300

    def terms(p: dict[str, np.ndarray]) -> dict[str, tuple[float, dict[str, np.ndarray]]]:
        l2 = lambd / (2 * m) * float(np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
        l2_grads = {"W1": lambd / m * p["W1"], "W2": lambd / m * p["W2"]}
        return {"data": fn(p), "l2": (l2, {} if bug else l2_grads)}

    return terms, params


@pytest.mark.parametrize("mode", MODES)
def test_check_names_the_term_whose_gradient_is_wrong(mode: str) -> None:
    fn, params = with_l2(bug=True)
    report = gradcheck.check(fn, params, mode=mode, samples=4, probes=3)
    assert report.failed and set(report.failed_blocks) == {"W1", "W2"}
    assert report.failed_terms == ["l2"] and report.terms["data"].passed
    assert report.findings[0].code == "grad_term"
    assert report.findings[0].values["term"] == "L2"
    assert "wrong gradient: the L2 term's" in report.summary()


def test_check_passes_a_correct_sum_of_terms_and_checks_each() -> None:
    fn, params = with_l2(bug=False)
    report = gradcheck.check(fn, params)
    assert report.passed, report.summary()
    assert set(report.terms) == {"data", "l2"}
    assert report.terms["l2"].passed
    assert report.terms["l2"].blocks["b1"].verdict == UNINFORMATIVE  # L2 leaves b alone


def test_each_term_is_checked_at_the_precision_of_its_own_values() -> None:
    # J(θ) of each term is a round number (9.0, 2.5): only the values at θ ± ε, shared by
    # the terms' checks, show that they are computed in float64
    def fn(p: dict[str, np.ndarray]) -> dict[str, tuple[float, dict[str, np.ndarray]]]:
        w = p["w"]
        return {"data": (float(np.sum(w**3)), {"w": 3 * w**2}),
                "l2": (float(0.5 * w @ w), {"w": w})}

    report = gradcheck.check(fn, {"w": np.array([1.0, 2.0])})
    assert report.passed and all(term.verdict == GREAT for term in report.terms.values())


def test_check_refuses_terms_that_change_between_calls() -> None:
    calls = []

    def fn(p: dict[str, np.ndarray]) -> dict[str, tuple[float, dict[str, np.ndarray]]]:
        calls.append(1)
        name = "data" if len(calls) == 1 else "other"
        return {name: (float(p["w"] @ p["w"]), {"w": 2 * p["w"]})}

    with pytest.raises(gradcheck.GradcheckError, match="the same terms at every call"):
        gradcheck.check(fn, {"w": np.ones(2)})


# --- kinks exactly at θ ---------------------------------------------------------------------


def grid_network(seed: int, activation: str = "relu"
                 ) -> tuple[dr.Sequential, np.ndarray, np.ndarray]:
    """Integer inputs and weights on a grid of ½: many ReLU pre-activations are exactly 0."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(12, 3)).astype(float)
    y = rng.integers(0, 2, size=12)
    net = dr.Sequential([dr.Dense(4, activation), dr.Dense(4, activation),
                         dr.Dense(1, "sigmoid")], input_dim=3, seed=seed, dtype="float64")
    for value in net.named_parameters().values():
        value[...] = rng.integers(-2, 3, size=value.shape) * 0.5
    return net, X, y


def as_function(net: dr.Sequential, X: np.ndarray, y: np.ndarray
                ) -> tuple[Fn, dict[str, np.ndarray]]:
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        copy = net.astype("float64")
        for name, value in p.items():
            copy.named_parameters()[name][...] = value
        cost, grad = copy.cost_and_gradients(X, y)
        return cost, {s.name: grad[s.start:s.stop].reshape(s.shape) for s in copy.layout}

    return fn, {name: value.copy() for name, value in net.named_parameters().items()}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_check_model_accepts_a_subgradient_at_exact_kinks(activation: str, mode: str) -> None:
    # seed 19 was "FAILED … dense_1.b (inconclusive)" with 12 pre-activations exactly 0
    for seed in (19, 0, 1, 6):
        net, X, y = grid_network(seed, activation)
        first = X @ net.named_parameters()["dense_1.W"] + net.named_parameters()["dense_1.b"]
        assert (first == 0).any()
        report = gradcheck.check_model(net, X, y, mode=mode, samples=4, probes=3)
        assert report.passed, (seed, report.summary())
        assert notes(report, "grad_kinks")  # crossed a kink, re-measured
    assert sum(block.subgradients for block in report.blocks.values()) > 0


def test_check_of_the_same_function_passes_too() -> None:
    for seed in (19, 0, 1, 6):
        fn, params = as_function(*grid_network(seed))
        report = gradcheck.check(fn, params)
        assert report.passed, (seed, report.summary())


@pytest.mark.parametrize("mode", MODES)
def test_a_bug_at_exact_kinks_is_still_caught(mode: str, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    original = layers.Dense.backward

    def doubled_db1(self: layers.Dense, params: Any, dout: np.ndarray, cache: Any,
                    **options: Any) -> Any:
        dx, grads = original(self, params, dout, cache, **options)
        if params["W"].shape == (3, 4):  # dense_1 (layers hold no names)
            grads["b"] *= 2
        return dx, grads

    net, X, y = grid_network(19)
    monkeypatch.setattr(layers.Dense, "backward", doubled_db1)
    report = gradcheck.check_model(net, X, y, mode=mode, samples=4, probes=3)
    assert report.failed_blocks == ["dense_1.b"], report.summary()


def test_check_accepts_the_subgradient_of_relu_at_0_and_counts_it() -> None:
    # max(w, 0) at w = 0: one-sided derivatives 1 and 0 (the central difference reads ½);
    # the analytic relu'(0) = 0 lies between them: accepted, and counted
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w = p["w"]
        return float(np.sum(np.maximum(w, 0)) + w @ w), {"w": (w > 0) + 2 * w}

    report = gradcheck.check(fn, {"w": np.array([0.0, 1.5, -2.0])})
    assert report.passed, report.summary()
    assert report.blocks["w"].subgradients == 1
    kinks = notes(report, "grad_kinks")
    assert kinks[0].values["accepted"] == 1
    assert "; 1 at a kink, subgradient accepted (the analytic value lies between" in str(kinks[0])


def test_check_leaves_out_a_value_outside_the_one_sided_derivatives() -> None:
    # d/dw max(w, 0) at 0 claimed to be 3: outside [0, 1]; with no branch records check()
    # cannot rule out several kinks adding up, so the coordinate is left out, never passed
    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        w = p["w"]
        return float(np.sum(np.maximum(w, 0)) + w @ w), {"w": np.where(w == 0, 3.0, w > 0)
                                                         + 2 * w}

    report = gradcheck.check(fn, {"w": np.array([0.0, 1.5, -2.0])})
    assert report.blocks["w"].subgradients == 0
    kinks = notes(report, "grad_kinks")
    assert kinks[0].values["left_out"] == 1
    assert "; 1 left out of the verdict" in str(kinks[0])


def certain_network(scale: float) -> tuple[dr.Sequential, np.ndarray, np.ndarray]:
    """A logistic unit (L2 λ = 1) whose logits are ±``scale``·|x|: at 40 its data cost is
    ~1e-18 of the penalty; at 90 sigmoid(z) rounds to 1, so the analytic ``a − y`` is 0
    where the numeric derivative of the stable cost is ~1e-37."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 3))
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] += np.sign(X[:, 0])  # |x0| >= 1: every row far from the boundary
    model = dr.Sequential([dr.layers.Dense(1, "sigmoid")], input_dim=3, l2=1.0,
                          dtype="float64")
    model.set_parameters({"dense_1.W": np.array([[scale], [0.0], [0.0]]),
                          "dense_1.b": np.zeros(1)})
    return model, X, y


@pytest.mark.parametrize("mode", MODES)
def test_a_data_term_below_the_whole_objectives_floor_is_uninformative_not_wrong(
        mode: str) -> None:
    # was: "worry; wrong gradient: the data term's" for a network certain of every row
    # (analytic 0.0 against a numeric 1e-37, a term measured finer than J can be)
    model, X, y = certain_network(90.0)
    report = gradcheck.check_model(model, X, y, mode=mode)
    assert not report.failed, report.summary()
    assert report.terms["data"].verdict == UNINFORMATIVE


def test_a_wrong_data_term_hidden_by_the_penalty_is_still_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the data gradient (~1e-3 of the penalty's) is far above the whole J's floor: a bug in
    # it is caught by the term's check even where the sum reads close to right
    model, X, y = certain_network(5.0)
    original = layers.Dense.backward

    def doubled(self: layers.Dense, params: Any, dout: np.ndarray, cache: Any,
                **options: Any) -> Any:
        return original(self, params, 2 * dout, cache, **options)

    monkeypatch.setattr(layers.Dense, "backward", doubled)
    report = gradcheck.check_model(model, X, y)
    assert report.failed and report.failed_terms == ["data"], report.summary()


def test_check_judges_each_term_at_the_resolution_of_the_whole_objective() -> None:
    # a data term of ~1e-30 whose analytic gradient rounds to 0, beside an L2 term of ~1:
    # below what J's own check resolves, so no verdict on it; the L2 term is still judged
    def fn(p: dict[str, np.ndarray]) -> dict[str, tuple[float, dict[str, np.ndarray]]]:
        w = p["w"]
        return {"data": (float(1e-30 * np.sum(w**2)), {"w": np.zeros_like(w)}),
                "l2": (float(0.5 * w @ w), {"w": w})}

    report = gradcheck.check(fn, {"w": np.array([1.0, 2.0])})
    assert report.passed, report.summary()
    assert report.terms["data"].verdict == UNINFORMATIVE
    assert report.terms["l2"].verdict == GREAT
