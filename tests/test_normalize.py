"""Tests for ``deeprecipe.data.normalize``: the notes' x_norm = (x − μ)/σ with μ, σ from the
training set only, reused for dev, test and (after saving) predictions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import deeprecipe as dr
from deeprecipe.data import ConstantFeatureWarning, Standardizer, split, standardize_splits
from deeprecipe.persistence import CONFIG_FILE


def test_the_hand_worked_example() -> None:
    # feature 0: values 1, 3 → μ = 2, σ = sqrt(((1-2)² + (3-2)²) / 2) = 1
    # feature 1: constant 10 → μ = 10, σ = 0 → set to 1 (with a warning naming it)
    with pytest.warns(ConstantFeatureWarning, match=r"1 feature\(s\) have zero variance.*: 1;"):
        scaler = Standardizer().fit([[1, 10], [3, 10]])
    assert scaler.mean_.tolist() == [2.0, 10.0]
    assert scaler.std_.tolist() == [1.0, 1.0]
    assert scaler.constant_features_.tolist() == [1]
    # (5 - 2) / 1 = 3 and (12 - 10) / 1 = 2
    assert scaler.transform([[5, 12]]).tolist() == [[3.0, 2.0]]


def test_statistics_are_the_notes_equations(rng: np.random.Generator) -> None:
    X = rng.normal(loc=[0, 100, -5], scale=[1, 30, 0.01], size=(500, 3))
    scaler = Standardizer().fit(X)
    m = len(X)
    mu = X.sum(axis=0) / m  # equation 12
    sigma = np.sqrt(((X - mu) ** 2).sum(axis=0) / m)  # equation 13: 1/m, not 1/(m-1)
    np.testing.assert_allclose(scaler.mean_, mu, rtol=1e-12)
    np.testing.assert_allclose(scaler.std_, sigma, rtol=1e-12)
    Z = scaler.transform(X)  # equation 11
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-12)


def test_dev_and_test_reuse_the_training_statistics(rng: np.random.Generator) -> None:
    X_train = rng.normal(2.0, 3.0, size=(200, 4))
    X_dev = rng.normal(2.5, 3.5, size=(50, 4))
    scaler = Standardizer().fit(X_train)
    mean, std = scaler.mean_.copy(), scaler.std_.copy()
    Z_dev = scaler.transform(X_dev)
    np.testing.assert_array_equal(Z_dev, (X_dev - mean) / std)
    np.testing.assert_array_equal(scaler.mean_, mean)  # transform never refits
    assert np.abs(Z_dev.mean(axis=0)).max() > 0.05  # dev is not re-centred on its own mean
    assert np.array_equal(scaler.fit_transform(X_train), Standardizer().fit(X_train)
                          .transform(X_train))


def test_fitting_on_all_data_leaks_dev_into_training(rng: np.random.Generator) -> None:
    """The notes: normalize with the training set's μ, σ. Fitting on train + dev makes the
    training inputs depend on the dev data; fitting on train only does not."""
    X = rng.normal(size=(300, 3))
    y = rng.integers(0, 2, size=300)
    s = split(X, y, ratios=(0.8, 0.2), seed=0)
    shifted_dev = s.dev.X + 5.0  # a different dev set, same training set

    leaky = Standardizer().fit(np.vstack([s.train.X, s.dev.X]))
    leaky_shifted = Standardizer().fit(np.vstack([s.train.X, shifted_dev]))
    # dev statistics differ from train statistics, so the all-data fit is not the train fit
    assert not np.allclose(leaky.mean_, s.train.X.mean(axis=0))
    # … and the training inputs change when only the dev data changes: a leak
    assert not np.allclose(leaky.transform(s.train.X), leaky_shifted.transform(s.train.X))

    scaled, scaler = standardize_splits(s)
    X_shifted = X.copy()
    X_shifted[s.dev.indices] = shifted_dev
    rescaled, _ = standardize_splits(split(X_shifted, y, ratios=(0.8, 0.2), seed=0))
    np.testing.assert_array_equal(scaler.mean_, s.train.X.mean(axis=0))
    np.testing.assert_array_equal(scaled.train.X, rescaled.train.X)  # no leak


def test_standardize_splits_transforms_every_part_with_train_statistics() -> None:
    X, y = dr.datasets.load("wine")
    s = split(X, y, seed=1)
    scaled, scaler = standardize_splits(s)
    np.testing.assert_array_equal(scaler.mean_, s.train.X.mean(axis=0))
    for name, part in scaled.parts.items():
        original = s.parts[name]
        np.testing.assert_array_equal(part.X, (original.X - scaler.mean_) / scaler.std_)
        assert part.source_y is original.source_y and part.indices is original.indices
    with pytest.raises(TypeError, match="standardize_splits: splits must be"):
        standardize_splits((X, y))  # type: ignore[arg-type]


def test_constant_features_of_digits_are_named_and_kept_finite() -> None:
    X, _ = dr.datasets.load("digits")
    with pytest.warns(ConstantFeatureWarning, match=r"3 feature\(s\).*: 0, 32, 39;"):
        scaler = Standardizer().fit(X)
    assert scaler.constant_features_.tolist() == [0, 32, 39]
    assert (scaler.std_[[0, 32, 39]] == 1).all()
    assert np.isfinite(scaler.transform(X)).all()


def test_a_constant_with_rounding_noise_is_constant_and_names_are_used() -> None:
    X = np.column_stack([np.full(7, 0.1), np.arange(7.0)])  # mean of 0.1s is not exactly 0.1
    with pytest.warns(ConstantFeatureWarning, match="zero variance.*: price;"):
        scaler = Standardizer().fit(X, feature_names=["price", "size"])
    assert scaler.constant_features_.tolist() == [0]
    assert scaler.feature_names_ == ["price", "size"]


def test_a_dataframes_columns_are_its_feature_names_and_must_come_back_in_order() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"age": [20.0, 40, 60], "income": [1e3, 3e3, 2e3]})
    scaler = Standardizer().fit(frame)
    assert scaler.feature_names_ == ["age", "income"]
    np.testing.assert_array_equal(scaler.transform(frame), scaler.transform(frame.to_numpy()))
    with pytest.raises(ValueError, match=r"X\.columns must be the features it was fit on, in "
                       r"order \['age', 'income'\]; received X\.columns=\['income', 'age'\]"):
        scaler.transform(frame[["income", "age"]])  # would scale age by income's σ


def test_transform_before_fit_is_a_runtime_error() -> None:
    scaler = Standardizer()
    for method in (scaler.transform, scaler.inverse_transform):
        with pytest.raises(RuntimeError, match=r"Standardizer\.\w+: called before fit"):
            method([[1.0]])
    with pytest.raises(RuntimeError, match="called before fit"):
        scaler.to_dict()
    assert repr(scaler) == "Standardizer(unfitted)"


def test_bad_inputs_are_refused(rng: np.random.Generator) -> None:
    scaler = Standardizer().fit(rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match=r"Standardizer.transform: X.shape\[1\] must be 3"):
        scaler.transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"Standardizer.fit: X must be finite"):
        Standardizer().fit([[1.0, np.nan]])
    with pytest.raises(ValueError, match=r"Standardizer.fit: X.ndim must be 2-D"):
        Standardizer().fit([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Standardizer.fit: X must be at least one row"):
        Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="len\\(feature_names\\) must be 3"):
        Standardizer().fit(rng.normal(size=(10, 3)), feature_names=["a"])


def test_inputs_are_never_modified_and_float32_stays_float32(rng: np.random.Generator) -> None:
    X = rng.normal(size=(20, 3)).astype(np.float32)
    copy = X.copy()
    scaler = Standardizer().fit(X)
    Z = scaler.transform(X)
    back = scaler.inverse_transform(Z)
    assert np.array_equal(X, copy)
    assert Z.dtype == np.float32 and back.dtype == np.float32
    assert scaler.transform(X.astype(np.int64)).dtype == np.float64


def test_to_dict_round_trips_exactly_through_json(rng: np.random.Generator) -> None:
    X = rng.normal(size=(30, 4)) * [1e-3, 1, 1e3, 0]
    with pytest.warns(ConstantFeatureWarning):
        scaler = Standardizer().fit(X, feature_names=["a", "b", "c", "d"])
    restored = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert np.array_equal(restored.mean_, scaler.mean_)
    assert np.array_equal(restored.std_, scaler.std_)
    assert restored.constant_features_.tolist() == [3]
    assert restored.feature_names_ == ["a", "b", "c", "d"]
    assert np.array_equal(restored.transform(X), scaler.transform(X))


@pytest.mark.parametrize(
    "state",
    [
        {"mean": [0.0]},
        {"mean": [0.0, 1.0], "std": [1.0]},
        {"mean": [0.0], "std": [0.0]},
        {"mean": [0.0], "std": [1.0], "constant_features": [4]},
        {"mean": ["a"], "std": [1.0]},
        [1, 2],
    ],
)
def test_from_dict_checks_what_it_reads(state: object) -> None:
    with pytest.raises(ValueError, match=r"Standardizer.from_dict"):
        Standardizer.from_dict(state)  # type: ignore[arg-type]


# --- saved with the model: a loaded model predicts from raw inputs -------------------------


def trained_on_wine() -> tuple[dr.Sequential, Standardizer, np.ndarray, np.ndarray]:
    X, y = dr.datasets.load("wine")
    s = split(X, y, seed=0)
    scaled, scaler = standardize_splits(s)
    model = dr.Sequential([dr.Dense(8, "relu"), dr.Dense(3, "softmax")], input_dim=13, seed=0)
    model.fit(*scaled.train, epochs=30, batch_size=32)
    return model, scaler, s.dev.X, s.dev.y


def test_a_model_saved_with_its_standardizer_predicts_from_raw_inputs(tmp_path: Path) -> None:
    model, scaler, X_raw, y_dev = trained_on_wine()
    folder = model.save(tmp_path / "wine", standardizer=scaler)
    assert model.standardizer is None  # saving does not change the model in memory
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["standardizer"]["mean"] == scaler.mean_.tolist()

    loaded = dr.load(folder)
    assert isinstance(loaded.standardizer, Standardizer)
    assert np.array_equal(loaded.standardizer.std_, scaler.std_)
    expected = model.predict_proba(scaler.transform(X_raw))
    assert np.array_equal(loaded.predict_proba(X_raw), expected)
    assert np.array_equal(loaded.predict(X_raw), model.predict(scaler.transform(X_raw)))
    assert loaded.evaluate(X_raw, y_dev) == model.evaluate(scaler.transform(X_raw), y_dev)
    # raw wine features (up to ~1,700) fed to the unstandardized network give other answers
    assert not np.allclose(model.predict_proba(X_raw), expected)

    resaved = dr.load(loaded.save(tmp_path / "again"))  # model.standardizer is saved by default
    assert np.array_equal(resaved.predict_proba(X_raw), expected)


def test_a_model_saved_without_a_standardizer_loads_without_one(tmp_path: Path) -> None:
    model, _, _, _ = trained_on_wine()
    assert dr.load(model.save(tmp_path / "plain")).standardizer is None


def test_saving_a_wrong_or_unfitted_standardizer_is_refused(tmp_path: Path) -> None:
    model, _, _, _ = trained_on_wine()
    with pytest.raises(RuntimeError, match="called before fit"):
        model.save(tmp_path / "a", standardizer=Standardizer())
    with pytest.raises(ValueError, match=r"the standardizer's feature count must be the "
                       r"model's input_dim \(13\)"):
        model.save(tmp_path / "b", standardizer=Standardizer().fit(np.eye(4)))
    with pytest.raises(TypeError, match="standardizer must be a fitted"):
        model.save(tmp_path / "c", standardizer={"mean": [0]})  # type: ignore[arg-type]


def test_a_damaged_standardizer_entry_is_a_load_error_naming_the_file(tmp_path: Path) -> None:
    model, scaler, _, _ = trained_on_wine()
    folder = model.save(tmp_path / "wine", standardizer=scaler)
    config = json.loads((folder / CONFIG_FILE).read_text())
    config["standardizer"]["std"] = config["standardizer"]["std"][:5]
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"load: .*config.json has an invalid 'standardizer'"):
        dr.load(folder)
    config["standardizer"] = Standardizer().fit(np.eye(4)).to_dict()
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"len\(state\['mean'\]\) must be 13 \(the model's "
                       r"input size\); received len\(state\['mean'\]\)=4"):
        dr.load(folder)


def test_fit_refuses_values_whose_variance_overflows() -> None:
    # σ of ±1e200 is inf in float64: every value used to be standardized to 0, silently
    X = np.array([[1e200, 1.0], [-1e200, 2.0], [3e199, 3.0]])
    with pytest.raises(ValueError, match=r"Standardizer.fit: X must be smaller than 1e\+150 in "
                       r"magnitude .*received X='values up to 1e\+200'"):
        Standardizer().fit(X)


def test_feature_names_given_as_one_string_are_refused() -> None:
    # "abc" named the three features 'a', 'b', 'c'
    with pytest.raises(ValueError, match=r"Standardizer.fit: feature_names must be a list of "
                       r"names; received feature_names='abc'\."):
        Standardizer().fit(np.eye(3), feature_names="abc")
