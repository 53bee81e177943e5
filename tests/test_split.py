"""Tests for ``deeprecipe.data.split``: the notes' sizes, stratification by largest remainder,
and the properties every split must have (disjoint, covering, reproducible)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deeprecipe as dr
from deeprecipe.data import ClassMissingWarning, min_rows, split, split_sets, split_sizes
from deeprecipe.data.split import sample_positions, unique_codes


def labelled(m: int, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``X[i] = [i, i]`` (so a row's origin is visible) and random class labels."""
    X = np.repeat(np.arange(m, dtype=np.float64)[:, None], 2, axis=1)
    y = np.random.default_rng(seed).integers(0, n_classes, size=m)
    return X, y


# --- sizes: the notes' rule and the ratios --------------------------------------------------


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (5, (3, 1, 1)),  # the smallest split: ⌊0.2·5⌋ = 1
        (100, (60, 20, 20)),  # small data: 60/20/20
        (1797, (1079, 359, 359)),  # digits: ⌊359.4⌋ = 359
        (50_000, (30_000, 10_000, 10_000)),  # 20% is exactly the cap
        (100_000, (80_000, 10_000, 10_000)),  # capped: 80/10/10
        (1_000_000, (980_000, 10_000, 10_000)),  # the notes' big data: 98/1/1
    ],
)
def test_default_sizes_follow_the_notes(m: int, expected: tuple[int, int, int]) -> None:
    assert split_sizes(m) == expected


@pytest.mark.parametrize(
    ("m", "ratios", "expected"),
    [
        (1797, (0.7, 0.15, 0.15), (1259, 269, 269)),  # ⌊269.55⌋ = 269, the rest to train
        (1797, (0.8, 0.2), (1438, 359, None)),  # two ratios: no test set
        (100, (0.71, 0.29), (71, 29, None)),  # 0.29·100 = 28.999999999999996 is still 29
        (10, (0.5, 0.3, 0.2), (5, 3, 2)),
    ],
)
def test_ratio_sizes_floor_dev_and_test(m: int, ratios: tuple[float, ...], expected: tuple) -> None:
    assert split_sizes(m, ratios) == expected


def test_min_rows_is_the_smallest_workable_size() -> None:
    assert min_rows() == 5
    assert min_rows((0.7, 0.15, 0.15)) == 7
    assert min_rows((0.5, 0.5)) == 2
    for ratios in (None, (0.7, 0.15, 0.15), (0.9, 0.1)):
        X, y = labelled(min_rows(ratios), n_classes=1)
        assert min(len(part) for part in split(X, y, ratios=ratios).parts.values()) == 1


def test_too_few_rows_is_a_clear_error() -> None:
    X, y = labelled(4, n_classes=1)
    with pytest.raises(ValueError, match=r"split: the number of rows must be at least 5.*=4"):
        split(X, y)


@pytest.mark.parametrize(
    "ratios", [(0.5, 0.3), (0.6, 0.2, 0.1, 0.1), (1.2, -0.2), (0.6, 0.4, 0.0), ("a", "b"), 0.8]
)
def test_bad_ratios_are_refused(ratios: object) -> None:
    X, y = labelled(100)
    with pytest.raises(ValueError, match="split: ratios must be 2 or 3 positive fractions"):
        split(X, y, ratios=ratios)  # type: ignore[arg-type]


# --- the result --------------------------------------------------------------------------


def test_parts_hold_the_rows_they_name() -> None:
    X, y = dr.datasets.load("digits")
    s = split(X, y, seed=0)
    assert s.sizes() == {"train": 1079, "dev": 359, "test": 359}
    assert s.has_test and s.note == "" and s.stratified
    for part in s.parts.values():
        assert np.array_equal(part.X, X[part.indices])
        assert np.array_equal(part.y, y[part.indices])
    X_train, y_train = s.train  # a part unpacks as (X, y)
    assert np.array_equal(X_train, s.train.X) and np.array_equal(y_train, s.train.y)
    # the parts gather from the data itself: a split makes no copy of it
    assert all(part.source_X is X and part.source_y is y for part in s.parts.values())


def test_a_sample_of_a_part_is_seeded_bounded_and_in_order() -> None:
    X, y = np.arange(200.0).reshape(100, 2), np.arange(100) % 2
    part = split(X, y, seed=0).train  # 60 rows
    whole_X, whole_y = part.sample(60, np.random.default_rng(0))
    assert np.array_equal(whole_X, part.X) and np.array_equal(whole_y, part.y)
    rng = np.random.default_rng(5)
    assert sample_positions(60, 60, rng) == slice(None)  # nothing drawn from rng
    assert rng.random() == np.random.default_rng(5).random()
    positions = sample_positions(60, 10, np.random.default_rng(1))
    assert len(positions) == 10 and np.all(np.diff(positions) > 0)  # distinct, in order
    sample_X, sample_y = part.sample(10, np.random.default_rng(1))
    assert np.array_equal(sample_X, part.X[positions])
    assert np.array_equal(sample_y, part.y[positions])


def test_two_ratios_give_no_test_set_and_say_why() -> None:
    X, y = labelled(100)
    s = split(X, y, ratios=(0.8, 0.2))
    train, dev, test = s
    assert test is None and s.test is None and not s.has_test
    assert "not an unbiased estimate" in s.note
    assert set(s.parts) == {"train", "dev"}
    assert len(train) + len(dev) == 100


def test_map_passes_a_column_of_every_part_through_a_function() -> None:
    X, y = labelled(100)
    s = split(X, y, ratios=(0.8, 0.2), seed=0)
    doubled = s.map(X=lambda X: 2 * X)
    assert doubled.test is None and doubled.note == s.note
    for name, part in s.parts.items():
        assert np.array_equal(doubled.parts[name].X, 2 * part.X)
        assert doubled.parts[name].source_y is part.source_y
        assert doubled.parts[name].indices is part.indices


def test_split_does_not_modify_its_inputs() -> None:
    X, y = labelled(50)
    X_copy, y_copy = X.copy(), y.copy()
    s = split(X, y)
    s.train.X[...] = -1  # the parts are copies
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)


def test_image_rows_and_a_generator_seed_are_accepted() -> None:
    X = np.random.default_rng(0).random((40, 8, 8))
    y = np.arange(40) % 2
    s = split(X, y, seed=np.random.default_rng(3))
    assert s.train.X.shape == (24, 8, 8)
    assert np.array_equal(s.dev.X, X[s.dev.indices])


# --- properties: disjoint, covering, reproducible ----------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(7, 300),
    n_classes=st.integers(1, 6),
    ratios=st.sampled_from([None, (0.6, 0.2, 0.2), (0.8, 0.2), (0.7, 0.15, 0.15), (0.5, 0.5)]),
    stratify=st.booleans(),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_parts_are_disjoint_cover_every_row_and_are_reproducible(
    m: int, n_classes: int, ratios: tuple | None, stratify: bool, shuffle: bool, seed: int
) -> None:
    X, y = labelled(m, n_classes, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClassMissingWarning)  # tiny classes may miss a part
        first = split(X, y, ratios=ratios, stratify=stratify, shuffle=shuffle, seed=seed)
        again = split(X, y, ratios=ratios, stratify=stratify, shuffle=shuffle, seed=seed)
    indices = np.concatenate([part.indices for part in first.parts.values()])
    assert np.array_equal(np.sort(indices), np.arange(m))  # disjoint and covering
    expected = split_sizes(m, ratios)
    assert [len(part) for part in first.parts.values()] == [s for s in expected if s is not None]
    for name, part in first.parts.items():
        assert np.array_equal(part.indices, again.parts[name].indices)  # reproducible
        assert np.array_equal(part.X[:, 0], part.indices)  # X rows travel with their index
        if not shuffle:
            assert np.array_equal(part.indices, np.sort(part.indices))


def test_different_seeds_give_different_splits() -> None:
    X, y = labelled(200)
    assert not np.array_equal(split(X, y, seed=0).dev.indices, split(X, y, seed=1).dev.indices)


def test_without_shuffle_or_stratify_the_row_order_is_kept() -> None:
    X, y = labelled(20, n_classes=1)
    s = split(X, y, stratify=False, shuffle=False)
    assert np.array_equal(s.train.indices, np.arange(12))
    assert np.array_equal(s.dev.indices, np.arange(12, 16))
    assert np.array_equal(s.test.indices, np.arange(16, 20))


# --- stratification ----------------------------------------------------------------------


def test_the_docstring_worked_example_of_largest_remainders() -> None:
    # classes of 7, 7, 6 rows; dev = test = ⌊0.2·20⌋ = 4
    # dev quotas 7·4/20 = 1.4, 1.4, 1.2 → floors (1, 1, 1), 1 left → the first 0.4 → (2, 1, 1)
    # test quotas from the rows left (5, 6, 5) of 16: 1.25, 1.5, 1.25 → (1, 1, 1) + 1 → (1, 2, 1)
    # train keeps the rest: (7-2-1, 7-1-2, 6-1-1) = (4, 4, 4)
    y = np.repeat([0, 1, 2], [7, 7, 6])
    s = split(np.zeros((20, 1)), y, shuffle=False)
    assert np.bincount(s.dev.y).tolist() == [2, 1, 1]
    assert np.bincount(s.test.y).tolist() == [1, 2, 1]
    assert np.bincount(s.train.y).tolist() == [4, 4, 4]


@pytest.mark.parametrize("ratios", [None, (0.7, 0.15, 0.15), (0.9, 0.1)])
def test_every_part_keeps_the_class_proportions(ratios: tuple | None) -> None:
    X, y = dr.datasets.load("digits")
    s = split(X, y, ratios=ratios, seed=4)
    counts = np.bincount(y)
    for name, part in s.parts.items():
        ideal = counts * len(part) / len(y)
        tolerance = 1 if name == "dev" else 2  # dev rounds once; test and train inherit it
        assert np.abs(np.bincount(part.y, minlength=10) - ideal).max() < tolerance, name


def test_unstratified_random_splits_drift_further_from_the_proportions() -> None:
    X, y = dr.datasets.load("digits")
    worst = {}
    for stratify in (True, False):
        s = split(X, y, stratify=stratify, seed=0)
        ideal = np.bincount(y) * len(s.dev) / len(y)
        worst[stratify] = np.abs(np.bincount(s.dev.y, minlength=10) - ideal).max()
    assert worst[True] < 1 < worst[False]


def test_string_and_one_hot_labels_are_stratified() -> None:
    names = np.array(["cat", "dog"])[np.arange(100) % 2]
    s = split(np.zeros((100, 1)), names)
    assert s.stratified and sorted(np.unique(s.dev.y, return_counts=True)[1]) == [10, 10]
    one_hot = np.eye(2)[np.arange(100) % 2]
    s = split(np.zeros((100, 1)), one_hot)
    assert s.stratified and s.dev.y.sum(axis=0).tolist() == [10, 10]


def test_a_continuous_target_is_split_at_random() -> None:
    y = np.random.default_rng(0).normal(size=100)
    s = split(np.zeros((100, 1)), y)
    assert not s.stratified
    assert s.sizes() == {"train": 60, "dev": 20, "test": 20}


def test_a_class_missing_from_a_part_is_named_in_a_warning() -> None:
    # dev quotas: common 48·10/50 = 9.6, rare 0.4 → the one row left goes to common (0.6);
    # test quotas from (38, 2) of 40: 9.5, 0.5 → a tie, won by the class that sorts first.
    y = np.array(["common"] * 48 + ["rare"] * 2)
    with pytest.warns(ClassMissingWarning, match=r"dev has no example of class 'rare'; test "
                      r"has no example of class 'rare' \(the smallest class has 2 example"):
        s = split(np.zeros((50, 1)), y)
    assert list(s.train.y).count("rare") == 2


def test_a_class_missing_from_train_is_named_too() -> None:
    y = np.arange(8)  # eight classes of one example: train cannot have them all
    with pytest.warns(ClassMissingWarning, match="train has no example of class"):
        split(np.zeros((8, 1)), y)


def test_without_stratify_whole_number_targets_are_not_classes(recwarn: Any) -> None:
    y = np.arange(40) * 7.0 + 25  # a regression target of whole numbers (ages, prices)
    split(np.zeros((40, 1)), y, stratify=False)
    assert not [w for w in recwarn if issubclass(w.category, ClassMissingWarning)]


def test_by_default_many_distinct_whole_numbers_are_a_regression_target(recwarn: Any) -> None:
    y = np.random.default_rng(0).integers(25, 346, size=200)  # like diabetes: 150+ values
    s = split(np.zeros((200, 1)), y)
    assert not s.stratified
    assert not [w for w in recwarn if issubclass(w.category, ClassMissingWarning)]
    with pytest.warns(ClassMissingWarning):  # stratify=True: every value is a class
        assert split(np.zeros((200, 1)), y, stratify=True).stratified
    assert split(np.zeros((60, 1)), np.arange(60) % 3.0).stratified  # few values: classes
    assert not split(np.zeros((200, 1)), y.astype(float)).stratified  # floats alike
    many = np.repeat(np.arange(30), 7)  # 30 small classes read like a regression target...
    assert not split(np.zeros((210, 1)), many).stratified
    assert split(np.zeros((210, 1)), many, stratify=True).stratified  # ...unless told


def test_stratify_must_be_true_false_or_auto() -> None:
    with pytest.raises(ValueError, match="split: stratify must be True, False or 'auto'; "
                       "received stratify='yes'"):
        split(*labelled(20), stratify="yes")


# --- errors ------------------------------------------------------------------------------


def test_mismatched_lengths_and_bad_seeds_are_refused() -> None:
    X, y = labelled(20)
    with pytest.raises(ValueError, match=r"split: y.shape must be .*len\(X\) = 20"):
        split(X, y[:10])
    with pytest.raises(ValueError, match="split: X must be an array with at least one row"):
        split(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(TypeError, match=r"split: seed must be an int or a np.random.Generator"):
        split(X, y, seed=0.5)  # type: ignore[arg-type]


def test_a_negative_seed_is_refused_naming_it() -> None:
    X, y = np.zeros((20, 2)), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"split: seed must be an integer >= 0; received "
                       r"seed=-1\."):  # it was NumPy's 'expected non-negative integer'
        split(X, y, seed=-1)


def test_shuffle_must_be_a_bool() -> None:
    X, y = np.zeros((20, 2)), np.arange(20) % 2
    with pytest.raises(TypeError, match=r"split: shuffle must be True or False; received "
                       r"shuffle='no'\."):  # bool('no') is True: it shuffled
        split(X, y, shuffle="no")


@pytest.mark.parametrize("m", [-5, 10.5, True])
def test_split_sizes_takes_a_number_of_rows(m: Any) -> None:
    # split_sizes(-5) was (-3, -1, -1) and split_sizes(10.5) was (6.5, 2, 2)
    with pytest.raises(ValueError, match=r"split_sizes: m must be a number of rows \(an integer "
                       r">= 0\)"):
        split_sizes(m)


@settings(max_examples=200, deadline=None)
@given(values=st.one_of(
    st.lists(st.integers(-5, 5), min_size=1, max_size=30).map(lambda v: np.array(v, float)),
    st.lists(st.integers(-2**40, 2**40), min_size=1, max_size=30).map(np.array),
    st.lists(st.sampled_from([0.5, -0.0, 0.0, 3.0, np.nan, np.inf]), min_size=1,
             max_size=30).map(lambda v: np.array(v, float)),
    st.lists(st.integers(0, 9), min_size=1, max_size=30).map(lambda v: np.array(v, np.uint8)),
))
def test_unique_codes_is_np_unique(values: np.ndarray) -> None:
    """Counting (whole numbers in a small range, issue 15's ten million labels) or sorting,
    the classes and codes are numpy's."""
    classes, codes = unique_codes(values)
    expected, inverse = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(classes, expected)
    assert classes.dtype == expected.dtype
    np.testing.assert_array_equal(codes, inverse.reshape(-1))


# --- a file's own sets (split_sets) ----------------------------------------------------------


def cyclic(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``X[i] = [i]`` and labels 0, 1, 2, 0, … (every class in every set)."""
    return np.arange(m, dtype=np.float64)[:, None], np.arange(m) % 3


def test_a_validation_set_alone_is_halved_into_dev_and_test_stratified() -> None:
    X, y = labelled(411, n_classes=2)
    s = split_sets(X, y, (("train", 211), ("dev", 200)), seed=0)
    np.testing.assert_array_equal(np.sort(s.train.indices), np.arange(211))  # as given
    assert (len(s.dev), len(s.test or ())) == (100, 100)
    held = np.concatenate([s.dev.indices, s.test.indices])  # type: ignore[union-attr]
    np.testing.assert_array_equal(np.sort(held), np.arange(211, 411))  # only the dev set
    ones = y[211:].sum()  # stratified: each half has the dev set's share of class 1
    assert abs(int(s.dev.y.sum()) - ones / 2) <= 1 and s.stratified
    again = split_sets(X, y, (("train", 211), ("dev", 200)), seed=0)
    np.testing.assert_array_equal(again.dev.indices, s.dev.indices)  # reproducible


def test_a_test_set_alone_is_halved_too_the_larger_half_to_dev() -> None:
    X, y = cyclic(30)
    s = split_sets(X, y, (("train", 21), ("test", 9)), seed=1)
    assert s.sizes() == {"train": 21, "dev": 5, "test": 4}
    assert set(s.dev.indices) | set(s.test.indices) == set(range(21, 30))  # type: ignore[union-attr]


def test_a_dev_and_a_test_set_are_kept_as_given() -> None:
    X, y = cyclic(40)
    s = split_sets(X, y, (("train", 25), ("dev", 10), ("test", 5)), seed=0)
    for part, rows in zip(s, (range(25), range(25, 35), range(35, 40)), strict=True):
        assert part is not None and sorted(part.indices) == list(rows)


def test_sets_in_another_order_name_their_own_rows() -> None:
    X, y = cyclic(30)
    s = split_sets(X, y, (("test", 6), ("train", 20), ("dev", 4)), seed=0)
    assert sorted(s.test.indices) == list(range(6))  # type: ignore[union-attr]
    assert sorted(s.train.indices) == list(range(6, 26))
    assert sorted(s.dev.indices) == list(range(26, 30))


@pytest.mark.parametrize("sets", [(), (("train", 100),), (("test", 100),)])
def test_no_sets_or_one_set_is_the_notes_split(sets: tuple) -> None:
    X, y = labelled(100)
    s, plain = split_sets(X, y, sets, seed=4), split(X, y, seed=4)
    for part, expected in zip(s, plain, strict=True):
        np.testing.assert_array_equal(part.indices, expected.indices)  # type: ignore[union-attr]


def test_a_regression_target_is_halved_at_random() -> None:
    X = np.arange(40.0)[:, None]
    y = np.linspace(0, 1, 40) ** 2
    s = split_sets(X, y, (("train", 30), ("dev", 10)), seed=0)
    assert not s.stratified and s.sizes() == {"train": 30, "dev": 5, "test": 5}


def test_a_class_missing_from_a_halved_set_is_warned() -> None:
    X = np.zeros((12, 1))
    y = np.array([0, 1] * 5 + [0, 0])  # the dev set (last 2 rows) has no class 1
    with pytest.warns(ClassMissingWarning) as caught:
        split_sets(X, y, (("train", 10), ("dev", 2)), seed=0)
    missing = caught[0].message.args[0].values["missing"]  # type: ignore[union-attr]
    assert missing == {"dev": [1], "test": [1]}


@pytest.mark.parametrize(
    ("sets", "match"),
    [
        ((("train", 10), ("dev", 5)), r"rows summing to 20"),  # sizes do not cover the rows
        ((("train", 10), ("valid", 10)), r"names from \('train', 'dev', 'test'\)"),
        ((("train", 10), ("train", 10)), r"each once"),
        ((("train", 20), ("dev", 0)), r"at least 1 row"),
        ((("dev", 10), ("test", 10)), r"a training set .* help: .*--dev-test-data"),
        ((("train", 19), ("dev", 1)), r"at least 2 rows to halve"),
        ((("train", "many"), ("dev", 1)), r"received sets=\(\('train', 'many'\)"),
    ],
)
def test_bad_sets_are_refused_naming_the_argument(sets: tuple, match: str) -> None:
    X, y = labelled(20)
    with pytest.raises(ValueError, match=r"^split_sets: sets must be .*" + match):
        split_sets(X, y, sets)
