"""Test the tester: planted backpropagation bugs that the gradient checker must catch.

Two catalogues, each run in every mode (``full``, ``sampled``, ``directional``):

* a hand-written NumPy network ``fn(params) -> (cost, grads)`` in the style of the course
  assignment (3 layers, tanh hidden units, softmax output, optional L2 and dropout), with a
  ``bug=`` switch, checked by :func:`deeprecipe.gradcheck.check`;
* deeprecipe's own backward code with a bug monkeypatched in (``Dense.backward``,
  ``Dropout.backward``, the tanh derivative, the L2 gradient), checked by
  :func:`deeprecipe.gradcheck.check_model`.

Each bug must fail *naming the right block*; blocks that the bug provably leaves correct
(those whose gradients backprop computes before the bug, or that the bug does not touch)
must not be flagged; pure scale errors must be named. The same networks without a bug must
pass, so a checker that fails everything fails here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe import activations, gradcheck, layers, regularizers
from deeprecipe.findings import Finding

MODES = gradcheck.MODES
# Small enough that "sampled" really samples and "directional" really projects.
CHEAP = {"samples": 4, "probes": 3}

# --- a hand-written network -----------------------------------------------------------------

M, N_X, N_1, N_2, N_Y = 8, 4, 5, 5, 3  # N_1 == N_2: dense_2.W is square (the transposed bug)
KEEP_PROB = 0.8
NAMES = ("dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b", "dense_3.W", "dense_3.b")


def hand_network(
    bug: str | None = None, *, lambd: float = 0.0, keep_prob: float = 1.0
) -> tuple[Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]],
           dict[str, np.ndarray]]:
    """``(fn, params)`` for ``X → tanh → [dropout] → tanh → softmax`` with cross-entropy and
    the notes' L2 term ``(λ/2m) Σ ||W||²``. Rows are examples: ``Z = A @ W + b``.

    The dropout mask is drawn from a fixed seed inside ``fn``, so it is the same at every
    evaluation (the checker's preflight requires a deterministic ``J``).
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(M, N_X))
    Y = np.eye(N_Y)[np.arange(M) % N_Y]
    params = {
        "dense_1.W": rng.normal(size=(N_X, N_1)) / np.sqrt(N_X),
        "dense_1.b": 0.1 * rng.normal(size=N_1),
        "dense_2.W": rng.normal(size=(N_1, N_2)) / np.sqrt(N_1),
        "dense_2.b": 0.1 * rng.normal(size=N_2),
        "dense_3.W": rng.normal(size=(N_2, N_Y)) / np.sqrt(N_2),
        "dense_3.b": 0.1 * rng.normal(size=N_Y),
    }

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        W1, b1, W2, b2, W3, b3 = (p[name] for name in NAMES)
        m = len(X)
        # forward
        A1 = np.tanh(X @ W1 + b1)
        D1 = np.random.default_rng(1).random(A1.shape) < keep_prob
        A1 = A1 * D1 / keep_prob
        A2 = np.tanh(A1 @ W2 + b2)
        Z3 = A2 @ W3 + b3
        E = np.exp(Z3 - Z3.max(axis=1, keepdims=True))
        A3 = E / E.sum(axis=1, keepdims=True)
        cost = -np.sum(Y * np.log(A3)) / m
        cost += lambd / (2 * m) * sum(np.sum(W**2) for W in (W1, W2, W3))
        # backward
        dZ3 = A3 - Y
        if bug == "softmax_row_shift":
            dZ3 = np.roll(dZ3, 1, axis=0)
        dW3 = A2.T @ dZ3 / m
        if bug == "missing_1_over_m":
            dW3 = A2.T @ dZ3
        db3 = dZ3.sum(axis=0) / m
        dA2 = dZ3 @ W3.T
        tanh_prime_2 = 1 - A2 if bug == "tanh_derivative" else 1 - A2**2
        dZ2 = dA2 * tanh_prime_2
        dW2 = A1.T @ dZ2 / m
        db2 = dZ2.sum(axis=0) / m
        dA1 = dZ2 @ W2.T
        if bug == "dropout_no_mask":
            dA1 = dA1 / keep_prob
        elif bug == "dropout_no_scale":
            dA1 = dA1 * D1
        else:
            dA1 = dA1 * D1 / keep_prob
        A1_before_dropout = np.tanh(X @ W1 + b1)
        dZ1 = dA1 * (1 - A1_before_dropout**2)
        dW1 = X.T @ dZ1 / m
        db1 = dZ1.sum(axis=0) / m
        if bug == "db1_4_over_m":
            db1 = 4 / m * dZ1.sum(axis=0)
        if bug == "bias_wrong_axis":
            db1 = dZ1.sum(axis=1) / m  # shape (m,), not (n_1,)
        # the L2 term's gradient (λ/m) W
        l2_factor = {"l2_missing": 0.0, "l2_wrong_factor": lambd / (2 * m)}.get(bug, lambd / m)
        dW1, dW2, dW3 = (dW + l2_factor * W for dW, W in ((dW1, W1), (dW2, W2), (dW3, W3)))
        if bug == "dW2_doubled":
            dW2 = 2 * dW2
        if bug == "transposed_dW":
            dW2 = dW2.T
        return float(cost), dict(zip(NAMES, (dW1, db1, dW2, db2, dW3, db3), strict=True))

    return fn, params


@dataclass(frozen=True)
class Bug:
    """A planted bug: the blocks it must fail, those it must leave alone, what to name."""

    fails: frozenset[str]
    clean: frozenset[str] = frozenset()
    # block -> the code of its finding, or the factor c of a pure scale error (grad_scale)
    finding: dict[str, str | float] = field(default_factory=dict)
    options: dict[str, float] = field(default_factory=dict)  # hand_network(...) options


def _bug(fails: set[str], clean: set[str] | None = None,
         finding: dict[str, str | float] | None = None,
         **options: float) -> Bug:
    return Bug(frozenset(fails), frozenset(set(NAMES) - fails if clean is None else clean),
               finding or {}, options)


WITH_DROPOUT = {"keep_prob": KEEP_PROB}
WITH_L2 = {"lambd": 0.7}
ALL_W = {"dense_1.W", "dense_2.W", "dense_3.W"}

HAND_BUGS = {
    "dW2_doubled": _bug({"dense_2.W"}, finding={"dense_2.W": "grad_doubled"}),
    "db1_4_over_m": _bug({"dense_1.b"}, finding={"dense_1.b": 4.0}),
    "transposed_dW": _bug({"dense_2.W"}),
    "missing_1_over_m": _bug({"dense_3.W"}, finding={"dense_3.W": "grad_missing_m"}),
    # dZ2 is wrong, so is everything backprop computes from it (dense_2 and dense_1);
    # dense_3's gradients come before it.
    "tanh_derivative": _bug({"dense_2.W", "dense_2.b"}, {"dense_3.W", "dense_3.b"}),
    "dropout_no_mask": _bug({"dense_1.W", "dense_1.b"}, **WITH_DROPOUT),
    "dropout_no_scale": _bug(
        {"dense_1.W", "dense_1.b"},
        finding={"dense_1.W": KEEP_PROB, "dense_1.b": KEEP_PROB},
        **WITH_DROPOUT,
    ),
    "l2_missing": _bug(ALL_W, **WITH_L2),
    "l2_wrong_factor": _bug(ALL_W, **WITH_L2),
    # dZ3's rows are shifted: db3 = Σ_rows dZ3 is still right, dW3 = A2ᵀ dZ3 is not (nor is
    # anything upstream).
    "softmax_row_shift": _bug({"dense_3.W"}, {"dense_3.b"}),
    "bias_wrong_axis": _bug({"dense_1.b"}, finding={"dense_1.b": "grad_shape"}),
}


def _assert_caught(report: gradcheck.GradcheckReport, bug: Bug) -> None:
    summary = report.summary()
    assert not report.passed, summary
    assert bug.fails <= set(report.failed_blocks), summary
    assert not bug.clean & set(report.failed_blocks), summary
    for name, expected in bug.finding.items():
        found = report.blocks[name].finding
        assert found is not None, name
        if isinstance(expected, str):
            assert found.code == expected, (name, found)
        else:
            assert found.code == "grad_scale", (name, found)
            assert found.values["c"] == pytest.approx(expected, rel=5e-4), (name, found)
        assert any(f.code == "grad_block" and f.values["block"] == name
                   for f in report.findings), report.findings


def test_the_catalogue_is_big_enough() -> None:
    assert len(HAND_BUGS) + len(MODEL_BUGS) >= 10
    assert len(HAND_BUGS) >= 10


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(HAND_BUGS))
def test_hand_written_bug_is_caught(name: str, mode: str) -> None:
    bug = HAND_BUGS[name]
    fn, params = hand_network(name, **bug.options)
    report = gradcheck.check(fn, params, mode=mode, batch_size=M, **CHEAP)
    _assert_caught(report, bug)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("options", [{}, WITH_DROPOUT, WITH_L2, {**WITH_DROPOUT, **WITH_L2}],
                         ids=["plain", "dropout", "l2", "dropout+l2"])
def test_the_same_network_without_a_bug_passes(options: dict[str, float], mode: str) -> None:
    fn, params = hand_network(None, **options)
    report = gradcheck.check(fn, params, mode=mode, batch_size=M, **CHEAP)
    assert report.passed, report.summary()
    assert report.verdict == gradcheck.GREAT
    assert list(report.blocks) == list(NAMES)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("mode", ["sampled", "directional"])
def test_cheap_modes_catch_the_transposed_dw_whatever_the_seed(seed: int, mode: str) -> None:
    """A transpose leaves the diagonal right: the samples and probes must still see it."""
    fn, params = hand_network("transposed_dW")
    report = gradcheck.check(fn, params, mode=mode, seed=seed, samples=2, probes=2)
    assert report.failed_blocks == ["dense_2.W"]


def test_the_scale_classification_names_the_factor_in_every_mode() -> None:
    for mode in MODES:
        fn, params = hand_network("missing_1_over_m")
        without_m = gradcheck.check(fn, params, mode=mode, **CHEAP)  # m unknown: a number
        finding = without_m.blocks["dense_3.W"].finding
        assert finding is not None and finding.code == "grad_scale"
        assert finding.values["c"] == pytest.approx(M, rel=5e-4)


# --- bugs planted in deeprecipe's own backward --------------------------------------------

X_MODEL = np.random.default_rng(3).normal(size=(10, 4))  # m = 10: ×4 is not "m ×"
Y_MODEL = np.arange(10) % 3


def model(*, dropout: bool = False, l2: float = 0.0) -> dr.Sequential:
    """``4 → tanh(6) → [Dropout(0.7)] → tanh(6) → softmax(3)``; dense_2.W is square."""
    stack: list[Any] = [dr.Dense(6, "tanh")]
    if dropout:
        stack.append(dr.Dropout(0.7))
    stack += [dr.Dense(6, "tanh"), dr.Dense(3, "softmax")]
    return dr.Sequential(stack, input_dim=4, l2=l2, seed=0)


MODEL_NAMES = set(NAMES)
MODEL_SHAPES = {"dense_1": (4, 6), "dense_2": (6, 6), "dense_3": (6, 3)}  # W of model()'s
Patch = Callable[[pytest.MonkeyPatch], None]


def _patch_dense(layer: str, change: Callable[[dict[str, np.ndarray], int], None],
                 dout: Callable[[np.ndarray], np.ndarray] | None = None) -> Patch:
    """Plant ``change(grads, m)`` (in place) into ``Dense.backward`` of one layer, or feed
    that layer a changed ``dout``."""
    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        original = layers.Dense.backward

        def backward(self: layers.Dense, params: dict[str, np.ndarray], d: np.ndarray,
                     cache: Any, *, out: dict[str, np.ndarray] | None = None,
                     input_grad: bool = True) -> Any:
            mine = params["W"].shape == MODEL_SHAPES[layer]  # layers hold no names
            if mine and dout is not None:
                d = dout(d)
            dx, grads = original(self, params, d, cache, out=out, input_grad=input_grad)
            if mine:
                change(grads, len(d))
            return dx, grads

        monkeypatch.setattr(layers.Dense, "backward", backward)

    return apply


def _scale(key: str, factor: float | str) -> Callable[[dict[str, np.ndarray], int], None]:
    def change(grads: dict[str, np.ndarray], m: int) -> None:
        grads[key] *= m if factor == "m" else factor

    return change


def _transpose(grads: dict[str, np.ndarray], m: int) -> None:
    grads["W"][...] = grads["W"].T.copy()


def _unchanged(grads: dict[str, np.ndarray], m: int) -> None:
    pass


def _patch_dropout(kind: str) -> Patch:
    def backward(self: layers.Dropout, params: Any, dout: np.ndarray, cache: Any, *,
                 out: Any = None, input_grad: bool = True) -> Any:
        if cache is None:
            return dout, {}
        if kind == "no_mask":
            return dout / self.keep_prob, {}
        return dout * cache, {}  # no 1/keep_prob

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(layers.Dropout, "backward", backward)

    return apply


def _patch_tanh_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(da: np.ndarray, a: np.ndarray) -> np.ndarray:
        return da * (1 - a)  # should be 1 - a**2

    tanh = activations.ACTIVATIONS["tanh"]
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", tanh._replace(backward=wrong))


def _patch_l2_grad(factor: float) -> Patch:
    """``l2_grad`` times ``factor`` (0: missing; ½: ``λ/2m`` instead of ``λ/m``).
    ``PENALTIES`` holds references to the functions: patch the table too."""
    original = regularizers.l2_grad

    def l2_grad(w: np.ndarray, lambd: float, m: int) -> np.ndarray:
        return factor * original(w, lambd, m)

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(regularizers, "l2_grad", l2_grad)
        penalty, share, _ = regularizers.PENALTIES["l2"]
        monkeypatch.setitem(regularizers.PENALTIES, "l2", (penalty, share, l2_grad))

    return apply


@dataclass(frozen=True)
class ModelBug:
    patch: Patch
    bug: Bug
    dropout: bool = False
    l2: float = 0.0
    term: str = ""  # the penalty term that must fail on its own
    term_finding: str = ""  # the code of the term's block findings


def _model_bug(patch: Patch, fails: set[str], clean: set[str] | None = None,
               finding: dict[str, str | float] | None = None, **options: Any) -> ModelBug:
    return ModelBug(patch, _bug(fails, clean, finding), **options)


L2_CLEAN = {"dense_1.b", "dense_2.b", "dense_3.b"}

MODEL_BUGS = {
    "Dense.backward: dW2 doubled": _model_bug(
        _patch_dense("dense_2", _scale("W", 2.0)), {"dense_2.W"},
        finding={"dense_2.W": "grad_doubled"}),
    "Dense.backward: db1 with 4/m": _model_bug(
        _patch_dense("dense_1", _scale("b", 4.0)), {"dense_1.b"},
        finding={"dense_1.b": 4.0}),
    "Dense.backward: missing 1/m in dW3": _model_bug(
        _patch_dense("dense_3", _scale("W", "m")), {"dense_3.W"},
        finding={"dense_3.W": "grad_missing_m"}),
    "Dense.backward: sign flipped in db3": _model_bug(
        _patch_dense("dense_3", _scale("b", -1.0)), {"dense_3.b"},
        finding={"dense_3.b": "grad_flipped"}),
    "Dense.backward: transposed dW2": _model_bug(
        _patch_dense("dense_2", _transpose), {"dense_2.W"}),
    "softmax gradient off by a row": _model_bug(
        _patch_dense("dense_3", _unchanged, dout=lambda d: np.roll(d, 1, axis=0)),
        {"dense_3.W"}, {"dense_3.b"}),
    "tanh derivative 1 - a": _model_bug(
        _patch_tanh_derivative, {"dense_1.W", "dense_1.b", "dense_2.W", "dense_2.b"}),
    "Dropout.backward without the mask": _model_bug(
        _patch_dropout("no_mask"), {"dense_1.W", "dense_1.b"}, dropout=True),
    "Dropout.backward without 1/keep_prob": _model_bug(
        _patch_dropout("no_scale"), {"dense_1.W", "dense_1.b"},
        finding={"dense_1.W": 0.7}, dropout=True),
    "L2 gradient missing": _model_bug(
        _patch_l2_grad(0.0), ALL_W, L2_CLEAN, l2=0.7, term="l2", term_finding="grad_missing"),
    "L2 gradient with λ/2m": _model_bug(
        _patch_l2_grad(0.5), ALL_W, L2_CLEAN, l2=0.7, term="l2", term_finding="grad_halved"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(MODEL_BUGS))
def test_bug_in_deeprecipe_backward_is_caught(name: str, mode: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    case = MODEL_BUGS[name]
    net = model(dropout=case.dropout, l2=case.l2)
    case.patch(monkeypatch)
    report = gradcheck.check_model(net, X_MODEL, Y_MODEL, mode=mode,
                                   dropout="fixed" if case.dropout else "off", **CHEAP)
    assert isinstance(report, gradcheck.GradcheckReport)
    _assert_caught(report, case.bug)
    if case.term:
        assert set(report.terms) == {"data", case.term}
        assert report.terms["data"].passed, report.terms["data"].summary()
        assert not report.terms[case.term].passed
        culprit = [f for f in report.findings if f.code == "grad_term"]
        assert culprit and culprit[0].values["term"] == "L2", report.findings
        assert case.term_finding in {f["values"]["then"] for f in culprit[0].values["findings"]
                                     }, report.findings


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dropout", [False, True])
def test_the_same_model_without_a_bug_passes(dropout: bool, mode: str) -> None:
    report = gradcheck.check_model(model(dropout=dropout, l2=0.7), X_MODEL, Y_MODEL,
                                   mode=mode, dropout="fixed" if dropout else "off", **CHEAP)
    assert isinstance(report, gradcheck.GradcheckReport)
    assert report.passed, report.summary()
    assert report.findings == []


def test_dropout_bugs_are_invisible_with_dropout_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notes check with keep_prob = 1, where the dropout backward never runs: that is
    why ``dropout="fixed"`` exists."""
    _patch_dropout("no_mask")(monkeypatch)
    report = gradcheck.check_model(model(dropout=True), X_MODEL, Y_MODEL)
    assert isinstance(report, gradcheck.GradcheckReport)
    assert report.passed
    assert Finding("grad_dropout:off") in report.notes


# --- a single wrong entry -----------------------------------------------------------------


def _one_wrong_entry(index: tuple[int, int]) -> tuple[
        Callable[[dict[str, np.ndarray]], tuple[float, dict[str, np.ndarray]]],
        dict[str, np.ndarray]]:
    """A 30×20 weight block whose gradient is right except at ``index`` (off by 0.5)."""
    rng = np.random.default_rng(5)
    A = rng.normal(size=(12, 30))
    t = rng.normal(size=(12, 20))

    def fn(p: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        r = np.tanh(A @ p["W"]) - t
        J = 0.5 * np.mean(np.sum(r**2, axis=1))
        grad = A.T @ (r * (1 - np.tanh(A @ p["W"]) ** 2)) / len(A)
        grad[index] += 0.5
        return J, {"W": grad}

    return fn, {"W": rng.normal(size=(30, 20)) * 0.2}


@pytest.mark.parametrize("mode", MODES)
def test_a_single_wrong_entry_is_found_and_localised(mode: str) -> None:
    """600 weights, one wrong: the cheap modes see it through their probes (the samples
    rarely hit it) and bisect down to it."""
    fn, params = _one_wrong_entry((7, 11))
    report = gradcheck.check(fn, params, mode=mode)
    if mode != "full":
        assert report.blocks["W"].checked < 40
    assert report.failed_blocks == ["W"]
    worst = report.blocks["W"].worst[0]
    assert worst.index == (7, 11)
    assert worst.analytic - worst.numeric == pytest.approx(0.5, rel=1e-4)
