"""Do two sets come from the same distribution? The notes' rule turned into a check,
:func:`compare`: per-feature tests and a classifier two-sample test, on a bounded, seeded
random sample of each set."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import (
    as_float_array,
    check_feature_names,
    fail,
    positive_int,
    real,
    seed_value,
    squarable,
)
from ..findings import jsonable_fields, say
from .split import Part, sample_positions

SHIFT_AUC = 0.55
# DeLong's variance treats the scores as one classifier's; out-of-fold scores come from k
# different fits, and over random splits of breast_cancer, wine, iris and digits the AUC
# varied 1.3-1.6 times more than DeLong's standard error said: the variance is doubled.
CV_VARIANCE_FACTOR = 2.0
SHIFT_KS = 0.1
MAX_ROWS = 100_000  # rows per set every statistic uses: a seeded random sample of bigger sets
MAX_SAMPLES = 5000  # of those, rows per set the classifier test uses
MAX_SEED = 2**32 - 1
WIDE = 256  # more features than this (images) are compared on their principal components:
COMPONENTS = 64  # … this many (12,288 pixels, each tested and fed to the classifier, took
MAX_VALUES = 20_000_000  # minutes); and at most this many values (rows × features) per set


@dataclass(frozen=True)
class FeatureDifference:
    """How one feature differs between ``A`` and ``B``."""

    index: int
    name: str
    smd: float
    ks: float
    ks_pvalue: float
    differs: bool


@dataclass(frozen=True)
class Comparison:
    """The report of :func:`compare`. ``str(report)`` is :meth:`summary`."""

    labels: tuple[str, str]
    sizes: tuple[int, int]  # rows of each set
    sample_sizes: tuple[int, int]  # rows of each set the statistics use (at most max_rows)
    features: tuple[FeatureDifference, ...]
    auc: float
    auc_ci: tuple[float, float]
    confidence: float
    verdict: str
    passed: bool
    components_of: int = 0  # wide rows: the features are principal components of this many

    @property
    def sampled(self) -> bool:
        """Whether the statistics use a sample of a set rather than all of its rows."""
        return self.sample_sizes != self.sizes

    def sample_text(self) -> str:
        """``on 100,000 of 9,800,000 train rows`` (each sampled set), or ``""`` when the
        statistics use every row."""
        if not self.sampled:
            return ""
        return say("distribution_sample", {"labels": self.labels, "sizes": self.sizes,
                                           "sample_sizes": self.sample_sizes})

    def headline(self) -> str:
        """The verdict, with the sample when there is one: ``indistinguishable (on 100,000
        of 9,800,000 train rows)``."""
        return f"{self.verdict} ({self.sample_text()})" if self.sampled else self.verdict

    @property
    def differing(self) -> list[str]:
        """Names of the features that differ significantly, most different first."""
        return [f.name for f in self.most_different(len(self.features)) if f.differs]

    def most_different(self, k: int = 5) -> list[FeatureDifference]:
        """The ``k`` features with the largest KS statistic (then the largest ``|SMD|``)."""
        ranked = sorted(self.features, key=lambda f: (-f.ks, -abs(f.smd), f.index))
        return ranked[:k]

    def summary(self) -> str:
        a, b = self.labels
        low, high = self.auc_ci
        lines = [
            f"{a} ({self.sizes[0]:,} rows) vs {b} ({self.sizes[1]:,} rows): "
            f"{say('distribution:' + self.verdict)}.",
            f"  classifier two-sample test: cross-validated AUC {self.auc:.3f} "
            f"({self.confidence:.0%} CI {low:.3f}–{high:.3f}); 0.5 means it cannot tell "
            f"{a} from {b}.",
        ]
        if self.sampled:
            lines.append(f"  every statistic is computed {self.sample_text()}, a seeded "
                         "random sample.")
        if self.components_of:
            lines.append(f"  the {self.components_of:,} features are compared through their "
                         f"first {len(self.features)} principal components.")
        top = [f for f in self.most_different(5) if f.differs]
        if top:
            listed = ", ".join(f"{f.name} (KS {f.ks:.2f}, SMD {f.smd:+.2f})" for f in top)
            lines.append(f"  {len(self.differing)} of {len(self.features)} features differ; "
                         f"most: {listed}.")
        else:
            lines.append("  no single feature differs significantly.")
        if not self.passed:
            lines.append(f"  help: {say('distribution_help', {'a': a, 'b': b})}")
        return "\n".join(lines)

    __str__ = summary

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable: non-finite numbers (a constant feature's ±inf SMD) as ``None``."""
        return jsonable_fields(self, differing=self.differing)


def standardized_mean_difference(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``(μ_B − μ_A) / sqrt((σ_A² + σ_B²) / 2)`` per column; 0 when both columns are the same
    constant, ``±inf`` when they are different constants."""
    diff = B.mean(axis=0) - A.mean(axis=0)
    pooled = np.sqrt((A.var(axis=0) + B.var(axis=0)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant column: ±inf or 0/0
        smd = diff / pooled
    return np.where(np.isnan(smd), 0.0, smd)


def auc_with_interval(
    scores: np.ndarray, labels: np.ndarray, confidence: float, variance_factor: float = 1.0
) -> tuple[float, float, float]:
    """``(AUC, low, high)`` of ``scores`` for ``labels`` (1 positive, 0 negative), with
    DeLong's variance: ``Var = var(V10)/n1 + var(V01)/n0`` where ``V10[i]`` is the fraction of
    negatives scored below positive ``i`` and ``V01[j]`` the fraction of positives scored
    above negative ``j`` (ties count ½), times ``variance_factor``."""
    from scipy import stats  # heavy: imported on first use

    pos, neg = scores[labels == 1], scores[labels == 0]
    n1, n0 = len(pos), len(neg)
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (ranks[:n1] - stats.rankdata(pos)) / n0
    v01 = 1 - (ranks[n1:] - stats.rankdata(neg)) / n1
    auc = float(v10.mean())
    se = math.sqrt(variance_factor * (v10.var(ddof=1) / n1 + v01.var(ddof=1) / n0))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return auc, max(0.0, auc - z * se), min(1.0, auc + z * se)


def classifier_scores(
    A: np.ndarray, B: np.ndarray, n_folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold ``P(row is from B)`` of a standardized logistic regression, and labels."""
    # scikit-learn is heavy: imported on first use
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    Z = np.vstack([A, B])
    labels = np.concatenate([np.zeros(len(A), np.intp), np.ones(len(B), np.intp)])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    # one thread: the same work on any machine, and no BLAS threads fighting other work for
    # the cores (the cat images' check: 65 s on two threads beside other jobs, 7 s on one)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # Perfectly separable sets (AUC 1) stop lbfgs early; the scores are still right.
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_predict(model, Z, labels, cv=folds, method="predict_proba")[:, 1]
    return scores, labels


def principal_components(A: np.ndarray, B: np.ndarray, max_samples: int, seed: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` on the first :data:`COMPONENTS` principal components of their
    standardized rows (fitted on at most ``max_samples`` of each, pooled; the labels unseen,
    so the classifier's folds learn nothing of a row's set from them)."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    pooled = np.vstack([A[sample_positions(len(A), max_samples, rng)],
                        B[sample_positions(len(B), max_samples, rng)]])
    count = min(COMPONENTS, len(pooled) - 1)
    with threadpool_limits(limits=1):
        scaler = StandardScaler().fit(pooled)
        pca = PCA(n_components=count, svd_solver="randomized", random_state=seed)
        pca.fit(scaler.transform(pooled))
        return (pca.transform(scaler.transform(A)), pca.transform(scaler.transform(B)))


def sample_rows(
    where: str, arg: str, value: ArrayLike | Part, max_rows: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """At most ``max_rows`` rows of ``value`` drawn with ``rng``
    (:func:`~deeprecipe.data.split.sample_positions`), as finite float64 rows ``(k,
    features)`` (images flattened), and how many rows ``value`` has. A split's
    :class:`~deeprecipe.data.Part` gathers only the rows drawn and an array is sampled before
    it is converted, so a big set is never copied whole; only the rows drawn are checked,
    since only they are used."""
    if isinstance(value, Part):
        count, drawn = len(value), value.sample(max_rows, rng)[0]
    else:
        if not isinstance(value, np.ndarray) or value.ndim == 0:  # a list, a DataFrame: whole
            value = as_float_array(where, arg, value, np.float64, ndim=(2, 3, 4))
        count, drawn = len(value), value[sample_positions(len(value), max_rows, rng)]
    rows = as_float_array(where, arg, drawn, np.float64, ndim=(2, 3, 4))
    # beyond squarable's bound, variances are inf: the tests would read NaN
    return squarable(where, arg, rows).reshape(len(rows), -1), count


def compare(
    A: ArrayLike | Part,
    B: ArrayLike | Part,
    *,
    labels: tuple[str, str] = ("A", "B"),
    feature_names: Sequence[str] | None = None,
    alpha: float = 0.05,
    confidence: float = 0.95,
    n_folds: int = 5,
    max_rows: int = MAX_ROWS,
    max_samples: int = MAX_SAMPLES,
    seed: int = 0,
) -> Comparison:
    """Compare two sets of rows: ``A`` ``(n_A, …)`` and ``B`` ``(n_B, …)`` with the same
    features (image rows ``(n, h, w[, c])`` are flattened), or two parts of a split
    (:class:`~deeprecipe.data.Part`: only the rows sampled are gathered).

    ``labels`` name the sets in the report (e.g. ``("train", "dev")``); ``feature_names``
    name the columns (default: a DataFrame ``A``'s columns, else ``x[j]``). ``alpha`` is
    the family-wise level of the per-feature KS tests; ``confidence`` the level of the
    AUC's interval. Returns a :class:`Comparison`.

    Every statistic uses at most ``max_rows`` rows of each set (100,000): a bigger set is
    sampled at random with ``seed``, without replacement, and the :class:`Comparison`
    records both sizes (``sizes``, ``sample_sizes``); a smaller one is used whole.

    Per feature: the standardized mean difference ``SMD = (μ_B − μ_A) / sqrt((σ_A² + σ_B²)
    / 2)`` and the two-sample Kolmogorov–Smirnov statistic ``KS = max_x |F_A(x) − F_B(x)|``
    with its p-value; a feature *differs* when the p-value is below ``alpha / n_features``
    (Bonferroni). All features together: the cross-validated AUC (``n_folds`` folds, at most
    ``max_samples`` rows of each set, drawn with ``seed``) of a standardized logistic
    regression telling ``A`` from ``B``, ≈ 0.5 when it cannot, with DeLong's interval (its
    variance doubled for the cross-validation).

    Verdict: ``"indistinguishable"`` when the AUC's interval contains 0.5 and no feature
    differs; ``"different"`` when the AUC is significantly above 0.5 and at least
    ``SHIFT_AUC`` (0.55), or a feature's KS is at least ``SHIFT_KS`` (0.1) with a p-value
    below ``alpha / 100 / n_features``; ``"slightly different"`` otherwise. ``passed`` is
    False only for ``"different"``.

    Example::

        s = dr.data.split(X, y)
        report = dr.data.compare(s.train, s.dev, labels=("train", "dev"))
        report.passed, report.verdict, report.auc, report.differing
    """
    where = "compare"
    n_folds = positive_int(where, "n_folds", n_folds)
    if n_folds < 2:
        raise fail(where, "n_folds", "at least 2", n_folds)
    alpha = real(where, "alpha", alpha, "a number in (0, 1)", lambda v: 0 < v < 1)
    confidence = real(where, "confidence", confidence, "a number in (0, 1)", lambda v: 0 < v < 1)
    for arg, value in (("max_rows", max_rows), ("max_samples", max_samples)):
        if positive_int(where, arg, value) < n_folds:
            raise fail(where, arg, f"at least n_folds = {n_folds}", value)
    if isinstance(labels, str) or not isinstance(labels, Sequence) or len(labels) != 2:
        raise fail(where, "labels", "a pair of names such as ('train', 'dev')", labels)
    seed = seed_value(where, "seed", seed)
    if seed > MAX_SEED:  # scikit-learn's random_state
        raise fail(where, "seed", f"an integer from 0 to {MAX_SEED} (2**32 - 1)", seed)
    rng = np.random.default_rng(seed)
    width = _width(A)
    most = max(n_folds, min(max_rows, MAX_VALUES // width)) if width > WIDE else max_rows
    A_rows, A_count = sample_rows(where, "A", A, most, rng)
    B_rows, B_count = sample_rows(where, "B", B, most, rng)
    for arg, rows in (("A", A_rows), ("B", B_rows)):
        if len(rows) < n_folds:
            raise fail(where, f"len({arg})", f"at least n_folds = {n_folds} rows", len(rows))
    if A_rows.shape[1] != B_rows.shape[1]:
        raise fail(where, "B's feature count", f"A's ({A_rows.shape[1]})", B_rows.shape[1])
    n_features = A_rows.shape[1]
    names = check_feature_names(where, feature_names, n_features, A) or [
        f"x[{j}]" for j in range(n_features)]
    components_of = 0
    if n_features > WIDE:  # images: their principal components are the features compared
        components_of = n_features
        A_rows, B_rows = principal_components(A_rows, B_rows, max_samples, seed)
        n_features = A_rows.shape[1]
        names = [f"component {j + 1}" for j in range(n_features)]

    from scipy import stats  # imported here: it doubles the import time of deeprecipe

    smd = standardized_mean_difference(A_rows, B_rows)
    with warnings.catch_warnings():
        # exact p-values when scipy can compute them, else (with this warning) asymptotic
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        ks = stats.ks_2samp(A_rows, B_rows, axis=0)
    pvalues = np.asarray(ks.pvalue, dtype=np.float64)
    features = tuple(FeatureDifference(j, names[j], float(smd[j]), float(ks.statistic[j]),
                                       float(pvalues[j]), bool(pvalues[j] < alpha / n_features))
                     for j in range(n_features))

    scores, targets = classifier_scores(A_rows[sample_positions(len(A_rows), max_samples, rng)],
                                        B_rows[sample_positions(len(B_rows), max_samples, rng)],
                                        n_folds, seed)
    auc, low, high = auc_with_interval(scores, targets, confidence, CV_VARIANCE_FACTOR)
    strong = alpha / 100 / n_features
    shifted = [f for f in features if f.ks >= SHIFT_KS and f.ks_pvalue < strong]
    if low <= 0.5 and not any(f.differs for f in features):
        verdict = "indistinguishable"
    elif (low > 0.5 and auc >= SHIFT_AUC) or shifted:
        verdict = "different"
    else:
        verdict = "slightly different"
    return Comparison((str(labels[0]), str(labels[1])), (A_count, B_count),
                      (len(A_rows), len(B_rows)), features, auc, (low, high), confidence,
                      verdict, passed=verdict != "different", components_of=components_of)


def _width(value: ArrayLike | Part) -> int:
    """The features of ``value``'s rows (images flattened), read without converting it."""
    shape = value.shape if isinstance(value, (Part, np.ndarray)) else np.shape(value)
    return int(np.prod(shape[1:])) if len(shape) > 1 else 1
