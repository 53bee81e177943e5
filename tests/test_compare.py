"""Tests for ``deeprecipe.data.compare``: random splits of one data set pass; the notes'
high-resolution train vs low-resolution dev example fails and is named; big sets are
compared on a seeded sample whose size is said."""

from __future__ import annotations

import importlib
import json
import tracemalloc

import numpy as np
import pytest
from scipy import ndimage, stats
from sklearn.metrics import roc_auc_score

import deeprecipe as dr
from deeprecipe.data import compare
from deeprecipe.data.compare import auc_with_interval, standardized_mean_difference

compare_module = importlib.import_module("deeprecipe.data.compare")  # data.compare: the function

PIXELS = [f"pixel ({r}, {c})" for r in range(8) for c in range(8)]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return dr.datasets.load("digits")


def blurred(X: np.ndarray, sigma: float = 0.7) -> np.ndarray:
    """Lower-resolution digits: each 8×8 image smoothed by a Gaussian of ``sigma`` pixels."""
    images = X.reshape(-1, 8, 8)
    return ndimage.gaussian_filter(images, sigma=(0, sigma, sigma)).reshape(len(X), 64)


def test_random_splits_of_small_datasets_are_not_called_different() -> None:
    # 30 features, 113 dev rows: DeLong's interval alone (not widened for the cross-
    # validation) called 7 of 80 such splits different, seed 9 among them
    X, y = dr.datasets.load("breast_cancer")
    verdicts = []
    for seed in range(12):
        s = dr.data.split(X, y, seed=seed)
        scaler = dr.data.Standardizer().fit(s.train.X)
        verdicts += [compare(scaler.transform(s.train.X), scaler.transform(part.X),
                             seed=seed).verdict for part in (s.dev, s.test)]
    assert "different" not in verdicts


def downsampled(X: np.ndarray) -> np.ndarray:
    """Lower-resolution digits: 2×2 blocks averaged (4×4 images) and blown back up to 8×8."""
    blocks = X.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4))
    return blocks.repeat(2, axis=1).repeat(2, axis=2).reshape(len(X), 64)


# --- the notes' rule as a check ------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_splits_of_digits_pass(digits: tuple, seed: int) -> None:
    s = dr.data.split(*digits, seed=seed)
    report = compare(s.train.X, s.dev.X, labels=("train", "dev"), seed=seed)
    assert report.passed, report.summary()
    assert report.verdict == "indistinguishable"
    assert report.auc_ci[0] <= 0.5 <= report.auc_ci[1] + 0.05
    assert report.differing == []
    assert "no difference detected" in str(report)


@pytest.mark.parametrize("degrade", [blurred, downsampled], ids=["blurred", "downsampled"])
def test_low_resolution_dev_images_fail_and_are_named(digits: tuple, degrade) -> None:
    """The notes: training images of high resolution, dev/test of low resolution."""
    X, y = digits
    s = dr.data.split(X, y, seed=0)
    report = compare(s.train.X, degrade(s.dev.X), labels=("train (high-res)", "dev (low-res)"),
                     feature_names=PIXELS)
    assert not report.passed
    assert report.verdict == "different"
    assert report.auc > 0.9 and report.auc_ci[0] > 0.5
    text = report.summary()
    assert "train (high-res)" in text and "dev (low-res)" in text
    assert "DIFFERENT distributions" in text and "help:" in text
    assert report.differing  # the features that differ, most different first
    assert report.differing[0] in text and report.differing[0] in PIXELS


def test_a_single_shifted_feature_is_found_and_named(rng: np.random.Generator) -> None:
    A = rng.normal(size=(600, 5))
    B = rng.normal(size=(600, 5))
    B[:, 3] += 1.0
    names = ["age", "height", "weight", "income", "score"]
    report = compare(A, B, feature_names=names)
    assert report.verdict == "different"
    assert report.differing[0] == "income"  # others may be flagged by chance (α = 5%)
    top = report.most_different(1)[0]
    assert top.name == "income" and top.index == 3
    assert top.smd == pytest.approx(1.0, abs=0.15) and top.ks > 0.3


@pytest.mark.parametrize("change", ["spread", "shape"])
def test_a_change_of_spread_or_shape_is_different_though_the_mean_stays(
        rng: np.random.Generator, change: str) -> None:
    # a linear classifier cannot tell these apart (AUC ≈ 0.5): the KS tests can
    A = rng.normal(size=(1000, 10))
    B = 2 * rng.normal(size=(500, 10)) if change == "spread" else \
        rng.choice([-1.0, 1.0], size=(500, 10))  # same mean and variance, two values
    report = compare(A, B, labels=("train", "dev"))
    assert report.auc < 0.55
    assert report.verdict == "different" and not report.passed, report.summary()
    assert "no difference detected" not in report.summary()


def test_random_splits_of_gaussian_rows_are_not_called_different() -> None:
    verdicts = [compare(Z[:600], Z[600:], seed=seed).verdict for seed in range(20)
                for Z in [np.random.default_rng(seed).normal(size=(800, 10))]]
    assert "different" not in verdicts
    assert verdicts.count("indistinguishable") >= 16


def test_a_tiny_but_detectable_shift_is_slightly_different(rng: np.random.Generator) -> None:
    A = rng.normal(size=(5000, 2))
    B = rng.normal(size=(5000, 2))
    B[:, 0] += 0.1  # AUC ≈ Φ(0.1/√2) ≈ 0.53: significant with 10,000 rows, but small
    report = compare(A, B)
    assert report.verdict == "slightly different", report.summary()
    assert report.passed and 0.5 < report.auc_ci[0] and report.auc < 0.55


# --- the statistics ------------------------------------------------------------------------


def test_standardized_mean_difference_by_hand() -> None:
    # A = [0, 2]: μ 1, σ² 1; B = [2, 4]: μ 3, σ² 1 → (3 - 1) / sqrt((1 + 1) / 2) = 2
    A = np.array([[0.0, 5.0, 1.0], [2.0, 5.0, 1.0]])
    B = np.array([[2.0, 5.0, 2.0], [4.0, 5.0, 2.0]])
    smd = standardized_mean_difference(A, B)
    assert smd[0] == 2.0
    assert smd[1] == 0.0  # the same constant in both
    assert smd[2] == np.inf  # different constants


def test_ks_statistic_and_constant_features(rng: np.random.Generator) -> None:
    A = np.column_stack([rng.normal(size=50), np.zeros(50), np.full(50, 1.0)])
    B = np.column_stack([rng.normal(size=50) + 10, np.zeros(50), np.full(50, 2.0)])
    report = compare(A, B)
    ks = [f.ks for f in report.features]
    assert ks == [1.0, 0.0, 1.0]  # disjoint samples, identical constants, different constants
    assert report.features[1].differs is False
    encoded = json.loads(json.dumps(report.to_dict()))
    assert encoded["features"][2]["smd"] is None  # ±inf is not JSON
    assert encoded["verdict"] == "different" and encoded["passed"] is False


def test_auc_and_its_delong_interval(rng: np.random.Generator) -> None:
    labels = np.repeat([0, 1], 300)
    scores = rng.normal(size=600) + 0.8 * labels
    auc, low, high = auc_with_interval(scores, labels, 0.95)
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert low < auc < high and high - auc == pytest.approx(auc - low)
    # Hanley & McNeil's approximation of the same standard error agrees closely
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + 299 * (q1 - auc**2) + 299 * (q2 - auc**2)) / 300**2)
    assert (high - low) / (2 * 1.959964) == pytest.approx(se, rel=0.15)
    assert auc_with_interval(labels.astype(float), labels, 0.95) == (1.0, 1.0, 1.0)


# --- inputs --------------------------------------------------------------------------------


def test_images_are_flattened_and_inputs_left_alone(digits: tuple) -> None:
    X, _ = digits
    images = X[:400].reshape(-1, 8, 8)
    copy = images.copy()
    report = compare(images[:200], images[200:])
    assert len(report.features) == 64 and report.sizes == (200, 200)
    assert np.array_equal(images, copy)


def test_bad_inputs_are_refused(rng: np.random.Generator) -> None:
    A = rng.normal(size=(20, 3))
    with pytest.raises(ValueError, match="compare: B's feature count must be A's"):
        compare(A, rng.normal(size=(20, 4)))
    with pytest.raises(ValueError, match=r"compare: len\(B\) must be at least n_folds = 5"):
        compare(A, A[:3])
    with pytest.raises(ValueError, match=r"compare: A.ndim must be 2-D or 3-D or 4-D"):
        compare(A[:, 0], A[:, 1])
    with pytest.raises(ValueError, match="compare: B must be finite"):
        compare(A, np.full((20, 3), np.nan))
    with pytest.raises(ValueError, match=r"compare: len\(feature_names\) must be 3"):
        compare(A, A, feature_names=["a"])
    with pytest.raises(ValueError, match="compare: n_folds must be at least 2"):
        compare(A, A, n_folds=1)


def test_max_samples_bounds_the_classifier_test(rng: np.random.Generator) -> None:
    A, B = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2))
    small = compare(A, B, max_samples=200)
    full = compare(A, B)
    assert small.sizes == (3000, 3000)  # the per-feature statistics use every row
    # DeLong's interval shrinks like 1/√n: 2 × 200 rows give one ≈ √15 ≈ 3.9 times wider
    width = small.auc_ci[1] - small.auc_ci[0]
    assert width > 3 * (full.auc_ci[1] - full.auc_ci[0])


# --- big sets: a bounded sample --------------------------------------------------------------


def test_big_sets_are_compared_on_a_sample_whose_size_is_said(rng: np.random.Generator) -> None:
    A, B = rng.normal(size=(20_000, 3)), rng.normal(size=(3000, 3))
    report = compare(A, B, labels=("train", "dev"), max_rows=1000)
    assert report.sizes == (20_000, 3000) and report.sample_sizes == (1000, 1000)
    assert report.sampled
    said = "on 1,000 of 20,000 train rows and 1,000 of 3,000 dev rows"
    assert report.sample_text() == said
    assert report.headline() == f"{report.verdict} ({said})"
    assert f"every statistic is computed {said}, a seeded random sample." in report.summary()
    encoded = json.loads(json.dumps(report.to_dict()))
    assert encoded["sizes"] == [20_000, 3000] and encoded["sample_sizes"] == [1000, 1000]
    only_train = compare(A, B, labels=("train", "dev"), max_rows=5000)
    assert only_train.sample_text() == "on 5,000 of 20,000 train rows"


def test_below_the_cap_every_row_is_used_and_nothing_is_said(
        rng: np.random.Generator) -> None:
    # the built-in datasets are far below 100,000 rows: their comparisons are today's
    A, B = rng.normal(size=(800, 3)), rng.normal(size=(300, 3))
    report = compare(A, B, max_rows=800)
    assert report.sample_sizes == report.sizes == (800, 300) and not report.sampled
    assert report.headline() == report.verdict and report.sample_text() == ""
    assert "random sample" not in report.summary()
    whole = stats.ks_2samp(A, B, axis=0)
    assert [f.ks for f in report.features] == list(whole.statistic)
    assert compare(A, B).to_dict() == report.to_dict()  # the default cap: the same numbers


def test_the_sample_is_drawn_with_the_seed(rng: np.random.Generator) -> None:
    A, B = rng.normal(size=(4000, 2)), rng.normal(size=(4000, 2))
    B[:, 0] += 0.3
    first = compare(A, B, max_rows=500, seed=1)
    assert compare(A, B, max_rows=500, seed=1) == first
    assert compare(A, B, max_rows=500, seed=2).auc != first.auc  # other rows
    assert first.verdict == "different"  # 500 rows of each still see a 0.3 σ shift


def test_split_parts_are_compared_like_their_rows(rng: np.random.Generator) -> None:
    X = rng.normal(size=(30_000, 3)).astype(np.float32)
    s = dr.data.split(X, (X[:, 0] > 0).astype(int), seed=0)
    parts = compare(s.train, s.dev, max_rows=2000, seed=3)
    assert parts == compare(s.train.X, s.dev.X, max_rows=2000, seed=3)  # the same rows drawn
    assert parts.sizes == (18_000, 6000) and parts.sample_sizes == (2000, 2000)
    assert compare(s.train, s.dev) == compare(s.train.X, s.dev.X)  # below the cap: all rows


def test_a_list_is_sampled_like_an_array(rng: np.random.Generator) -> None:
    A = rng.normal(size=(600, 2))
    from_list = compare(A.tolist(), A + 5.0, max_rows=100)
    assert from_list == compare(A, A + 5.0, max_rows=100)
    assert from_list.sample_sizes == (100, 100)


def test_a_big_float32_set_is_never_copied_whole() -> None:
    # converting 300,000 × 20 float32 rows to float64 would allocate 48 MB; the sample of
    # 5,000 rows needs under 1 MB (the KS tests and the classifier a few MB more)
    X = np.random.default_rng(0).standard_normal((300_000, 20), dtype=np.float32)
    compare(X[:100], X[100:200])  # scipy and scikit-learn imported before measuring
    tracemalloc.start()
    try:
        report = compare(X, X[:5000], max_rows=5000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.sample_sizes == (5000, 5000)
    assert peak < 16e6, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize(("options", "error", "message"), [
    ({"labels": ("train",)}, ValueError, r"compare: labels must be a pair of names"),  # IndexError
    ({"labels": "ab"}, ValueError, r"compare: labels must be a pair of names"),
    ({"seed": -1}, ValueError, r"compare: seed must be an integer >= 0; received seed=-1\."),
    ({"seed": 1.5}, TypeError, r"compare: seed must be an integer >= 0; received seed=1.5\."),
    ({"seed": np.random.default_rng(0)}, TypeError, r"compare: seed must be an integer"),
    ({"seed": 2**32}, ValueError, r"compare: seed must be an integer from 0 to 4294967295"),
    ({"max_rows": 0}, ValueError, r"compare: max_rows must be a positive integer; received "
                                  r"max_rows=0\."),
    ({"max_rows": 4}, ValueError, r"compare: max_rows must be at least n_folds = 5"),
    ({"max_samples": 4}, ValueError, r"compare: max_samples must be at least n_folds = 5"),
])
def test_bad_options_are_named(options: dict, error: type, message: str) -> None:
    A = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(error, match=message):
        compare(A, A + 1, **options)


def test_values_whose_squares_overflow_are_refused_naming_the_set() -> None:
    A = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match=r"compare: B must be smaller than 1e\+150"):
        compare(A, A * 1e300)  # was scikit-learn's 'Input X contains NaN' (LogisticRegression)


def test_a_dataframe_names_the_features() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    A = pd.DataFrame(rng.normal(size=(100, 2)), columns=["age", "income"])
    report = compare(A, A.to_numpy() + np.array([0.0, 3.0]))
    assert report.differing == ["income"]  # was 'x[1]'


def test_feature_names_given_as_one_string_are_refused() -> None:
    A = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValueError, match=r"compare: feature_names must be a list of names"):
        compare(A, A + 1, feature_names="abc")  # it named the features 'a', 'b', 'c'


# --- wide rows (photos): compared through their principal components -------------------------


def photos(rng: np.random.Generator, m: int, brighter: float = 0.0) -> np.ndarray:
    """``m`` 24×24×3 pictures (1,728 values): a few smooth patterns mixed at random, noise,
    and ``brighter`` added to every pixel."""
    patterns = ndimage.gaussian_filter(rng.normal(size=(4, 24, 24, 3)), sigma=(0, 4, 4, 0))
    mix = rng.normal(size=(m, 4))
    return (np.einsum("mk,khwc->mhwc", mix, patterns) * 40 + 120 + brighter
            + rng.normal(scale=5.0, size=(m, 24, 24, 3)))


def test_wide_rows_are_compared_on_their_principal_components(rng: np.random.Generator) -> None:
    # each of the 1,728 pixels tested and fed to the classifier took minutes for photos
    a = photos(np.random.default_rng(1), 300)
    same = dr.data.compare(a[:200], a[200:], labels=("train", "dev"))
    assert same.passed and same.components_of == 1728
    assert len(same.features) == compare_module.COMPONENTS
    assert same.features[0].name == "component 1"
    assert "through their first 64 principal components" in same.summary()
    brighter = dr.data.compare(a[:200], photos(np.random.default_rng(2), 100, brighter=3.0))
    assert brighter.verdict == "different"


def test_wide_rows_are_sampled_to_a_bounded_number_of_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare_module, "MAX_VALUES", 1728 * 120)
    a = photos(np.random.default_rng(1), 300)
    report = dr.data.compare(a[:200], a[200:])
    assert report.sizes == (200, 100) and report.sample_sizes == (120, 100)
