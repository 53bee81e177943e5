"""Tests for ``deeprecipe.data.augment`` and ``fit(..., augment=...)``: shapes and labels kept,
inputs never modified, dev/test untouched, determinism from the seed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

import deeprecipe as dr
from deeprecipe.data import augment as A

TRANSFORMS = {
    "hflip": A.HorizontalFlip(),
    "vflip": A.VerticalFlip(),
    "rotation": A.Rotation(15),
    "translation": A.Translation(1.5),
    "affine": A.Affine(degrees=10, translate=1, scale=(0.9, 1.1), shear=10),
    "crop": A.RandomCrop(2),
    "crop_reflect": A.RandomCrop(1, mode="reflect"),
    "crop_resize": A.CropAndResize((0.7, 1.0)),
    "elastic": A.ElasticDistortion(alpha=2.0, sigma=1.0),
    "noise": A.GaussianNoise(0.2),
    "compose": A.Compose([A.Rotation(10), A.Translation(1), A.GaussianNoise(0.05)]),
}
ALL = pytest.mark.parametrize("transform", TRANSFORMS.values(), ids=TRANSFORMS.keys())


@pytest.fixture
def images(rng: np.random.Generator) -> np.ndarray:
    return rng.random((6, 8, 10)).astype(np.float32)


# --- the contract: shape, dtype, inputs untouched, seeded ----------------------------------


@ALL
@pytest.mark.parametrize("layout", ["nhw", "nhwc"])
def test_shape_and_dtype_are_kept_and_inputs_untouched(
    transform: A.Transform, layout: str, images: np.ndarray
) -> None:
    X = images if layout == "nhw" else np.stack([images, 1 - images, images / 2], axis=-1)
    copy = X.copy()
    out = transform(X, 0)
    assert out.shape == X.shape and out.dtype == np.float32
    assert np.array_equal(X, copy)
    assert not np.shares_memory(out, X)


@ALL
def test_the_same_seed_gives_the_same_batch_and_another_seed_another(
    transform: A.Transform, images: np.ndarray
) -> None:
    first = transform(images, np.random.default_rng(5))
    assert np.array_equal(first, transform(images, np.random.default_rng(5)))
    assert np.array_equal(first, transform(images, 5))  # an int seed is a Generator's seed
    assert not np.array_equal(transform(images, 6), first)


@ALL
def test_flat_rows_with_an_image_shape(transform: A.Transform, images: np.ndarray) -> None:
    flat = images.reshape(6, 80)
    pipeline = A.Compose([transform], image_shape=(8, 10))
    out = pipeline(flat, 3)
    assert out.shape == (6, 80)
    np.testing.assert_array_equal(out.reshape(6, 8, 10), A.Compose([transform])(images, 3))


def test_each_image_keeps_its_place_in_the_batch() -> None:
    """Labels stay valid: image i of the output comes from image i of the input."""
    X = np.repeat(np.arange(5.0)[:, None, None], 8, axis=1).repeat(8, axis=2)  # image i ≡ i
    everything = A.Compose([
        A.HorizontalFlip(), A.VerticalFlip(), A.Affine(30, 2, (0.8, 1.2), 20, mode="nearest"),
        A.RandomCrop(2, mode="edge"), A.CropAndResize(), A.ElasticDistortion(3, mode="nearest"),
    ])
    out = everything(X, 0)
    np.testing.assert_allclose(out, X, atol=1e-12)


def test_flat_rows_need_an_image_shape(images: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"Rotation: X.ndim must be 3 .*help: flat rows need "
                       r"an image shape: Compose\(\[...\], image_shape=\(h, w\)\)"):
        A.Rotation(10)(images.reshape(6, 80), 0)
    with pytest.raises(ValueError, match=r"Compose: X.shape must be \(n, 64\)"):
        A.Compose([A.Rotation(10)], image_shape=(8, 8))(images.reshape(6, 80), 0)
    noisy = A.GaussianNoise(0.1)(images.reshape(6, 80), 0)  # noise needs no image shape
    assert noisy.shape == (6, 80)


def test_randomness_must_be_given(images: np.ndarray) -> None:
    with pytest.raises(TypeError, match=r"Rotation: rng must be an int or a np.random.Generator"):
        A.Rotation(10)(images, None)  # type: ignore[arg-type]


# --- what each transform does --------------------------------------------------------------


def test_flips_mirror_exactly(images: np.ndarray) -> None:
    np.testing.assert_array_equal(A.HorizontalFlip(p=1)(images, 0), images[:, :, ::-1])
    np.testing.assert_array_equal(A.VerticalFlip(p=1)(images, 0), images[:, ::-1, :])
    np.testing.assert_array_equal(A.HorizontalFlip(p=0)(images, 0), images)
    flipped = A.HorizontalFlip(p=0.5)(np.repeat(images, 50, axis=0), 0)
    mirrored = (flipped == np.repeat(images, 50, axis=0)[:, :, ::-1]).all(axis=(1, 2))
    assert 0.35 < mirrored.mean() < 0.65


def test_zero_strength_geometry_is_the_identity_exactly(images: np.ndarray) -> None:
    for identity in (A.Affine(), A.Rotation(0), A.Translation(0), A.ElasticDistortion(alpha=0),
                     A.CropAndResize((1.0, 1.0)), A.GaussianNoise(0.0)):
        np.testing.assert_array_equal(identity(images, 1), images)


def test_rotation_and_translation_match_scipy_image_by_image(rng: np.random.Generator) -> None:
    """Reference: ``scipy.ndimage.rotate``/``shift`` one image at a time, with the angles and
    shifts the transform draws (angle first, then shear, zoom, shift, as in Affine.apply)."""
    X = rng.random((5, 9, 11))
    angles = np.random.default_rng(0).uniform(-40, 40, 5)
    rotated = A.Rotation(40)(X, 0)
    draws = np.random.default_rng(0)
    draws.uniform(0, 0, 5), draws.uniform(0, 0, 5), draws.uniform(1, 1, 5)  # angle, shear, zoom
    shifts = draws.uniform(-2, 2, (5, 2))
    shifted = A.Translation(2)(X, 0)
    for i in range(5):
        expected = ndimage.rotate(X[i], angles[i], reshape=False, order=1, mode="constant")
        np.testing.assert_allclose(rotated[i], expected, atol=1e-12)
        expected = ndimage.shift(X[i], shifts[i], order=1, mode="constant")
        np.testing.assert_allclose(shifted[i], expected, atol=1e-12)


def test_rotation_keeps_a_disk() -> None:
    r, c = np.mgrid[:21, :21] - 10
    disk = (r**2 + c**2 <= 36).astype(np.float64)[None]
    np.testing.assert_allclose(A.Rotation(30)(disk, 0).sum(), disk.sum(), rtol=0.05)


def test_translation_moves_a_dot_by_at_most_the_given_pixels() -> None:
    dot = np.zeros((100, 9, 9))
    dot[:, 4, 4] = 1.0
    moved = A.Translation(2)(dot, 0)
    rows, cols = np.mgrid[:9, :9]
    mass = moved.sum(axis=(1, 2))
    centre_r = (moved * rows).sum(axis=(1, 2)) / mass
    centre_c = (moved * cols).sum(axis=(1, 2)) / mass
    shifts = np.abs(np.column_stack([centre_r, centre_c]) - 4)
    assert shifts.max() <= 2 + 1e-9 and shifts.max() > 1  # up to 2 pixels, and really moved


def test_random_crop_is_a_whole_pixel_shift_with_fill(images: np.ndarray) -> None:
    out = A.RandomCrop(1)(images, 0)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    for i in range(len(images)):
        windows = [padded[i, dr_:dr_ + 8, dc:dc + 10] for dr_ in range(3) for dc in range(3)]
        assert any(np.array_equal(out[i], w) for w in windows)


def test_crop_and_resize_interpolates_within_the_input_range(images: np.ndarray) -> None:
    out = A.CropAndResize((0.5, 0.8))(images, 0)
    assert out.min() >= images.min() - 1e-6 and out.max() <= images.max() + 1e-6
    assert not np.allclose(out, images)


def test_noise_has_the_given_standard_deviation(rng: np.random.Generator) -> None:
    X = rng.random((200, 50))
    noise = A.GaussianNoise(0.3)(X, 0) - X
    assert noise.std() == pytest.approx(0.3, rel=0.02) and abs(noise.mean()) < 0.01


def test_channels_of_an_image_move_together(images: np.ndarray) -> None:
    colour = np.repeat(images[..., None], 3, axis=-1)
    out = A.Compose([A.Rotation(30), A.ElasticDistortion(2), A.RandomCrop(1)])(colour, 0)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: A.Rotation(-5), "Rotation: degrees must be a finite number >= 0"),
        (lambda: A.HorizontalFlip(p=1.5), r"HorizontalFlip: p must be a probability in \[0, 1\]"),
        (lambda: A.Affine(order=3), r"Affine: order must be 0 \(nearest\) or 1 \(bilinear\)"),
        (lambda: A.Rotation(10, mode="bogus"), "Rotation: mode must be one of 'constant'"),
        (lambda: A.Affine(scale=(1.2, 0.8)), r"Affine: scale must be \(low, high\)"),
        (lambda: A.CropAndResize((0.5, 1.5)), "CropAndResize: scale must be"),
        (lambda: A.RandomCrop(0), "RandomCrop: padding must be a positive integer"),
        (lambda: A.ElasticDistortion(sigma=0), "ElasticDistortion: sigma must be a number > 0"),
        (lambda: A.Compose([lambda X, rng: X]), "Compose: transforms must be a list of Transform"),
        (lambda: A.Compose([], image_shape=(8,))(np.zeros((2, 8)), 0),
         r"Compose: image_shape must be \(h, w\) or \(h, w, c\)"),
    ],
)
def test_bad_settings_are_refused(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


# --- fit(..., augment=...): training batches only ------------------------------------------


class Recorder:
    """An augmentation that records the batches it sees and returns them unchanged."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def __call__(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        assert isinstance(rng, np.random.Generator)
        self.batches.append(X.copy())
        return X.copy()


def small_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X, y = rng.random((50, 16)), rng.integers(0, 3, 50)
    X_dev, y_dev = 100 + rng.random((20, 16)), rng.integers(0, 3, 20)  # dev rows ≥ 100
    return X, y, X_dev, y_dev


def model() -> dr.Sequential:
    return dr.Sequential([dr.Dense(8, "relu"), dr.Dense(3, "softmax")], input_dim=16, seed=0)


def test_fit_augments_every_training_batch_and_never_dev_data() -> None:
    X, y, X_dev, y_dev = small_problem()
    recorder = Recorder()
    model().fit(X, y, validation_data=(X_dev, y_dev), epochs=3, batch_size=16, augment=recorder)
    assert [len(b) for b in recorder.batches] == [16, 16, 16, 2] * 3  # after shuffling, per batch
    for epoch in range(3):
        rows = np.vstack(recorder.batches[4 * epoch : 4 * epoch + 4])
        np.testing.assert_array_equal(np.sort(rows, axis=0), np.sort(X.astype(np.float32), axis=0))
    assert max(batch.max() for batch in recorder.batches) < 100  # no dev row was augmented


def test_an_identity_augmentation_changes_nothing() -> None:
    """Augmentation draws from its own stream: shuffling and dropout stay the same."""
    X, y, X_dev, y_dev = small_problem()
    plain, augmented = model(), model()
    h1 = plain.fit(X, y, validation_data=(X_dev, y_dev), epochs=4, batch_size=16)
    h2 = augmented.fit(X, y, validation_data=(X_dev, y_dev), epochs=4, batch_size=16,
                       augment=lambda xb, rng: xb.copy())
    np.testing.assert_array_equal(plain.theta, augmented.theta)
    assert h1["dev_cost"] == h2["dev_cost"] and h1["train_cost"] == h2["train_cost"]


def test_dev_metrics_are_computed_on_clean_dev_data() -> None:
    X, y, X_dev, y_dev = small_problem()
    trained = model()
    noisy = A.GaussianNoise(5.0)
    history = trained.fit(X, y, validation_data=(X_dev, y_dev), epochs=2, augment=noisy)
    assert history["dev_cost"][-1] == pytest.approx(trained.evaluate(X_dev, y_dev)["loss"])
    reference = model()
    reference.fit(X, y, validation_data=(X_dev, y_dev), epochs=2)
    assert not np.array_equal(trained.theta, reference.theta)  # the noise did change training


def test_fit_with_an_image_pipeline_leaves_the_data_alone() -> None:
    X, y = dr.datasets.load("digits")
    X, y = X[:200] / 16, y[:200]
    copy = X.copy()
    net = dr.Sequential([dr.Dense(16, "relu"), dr.Dense(10, "softmax")], input_dim=64, seed=1)
    pipeline = A.Compose([A.Rotation(10), A.Translation(0.5)], image_shape=(8, 8))
    history = net.fit(X, y, epochs=2, batch_size=32, augment=pipeline)
    assert np.array_equal(X, copy) and len(history) == 2


def test_fit_refuses_a_bad_augmentation() -> None:
    X, y, _, _ = small_problem()
    with pytest.raises(TypeError, match="fit: augment must be a callable"):
        model().fit(X, y, epochs=1, augment="rotate")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"fit: augment\(X_batch, rng\).shape must be the "
                       r"batch's shape \(16, 16\)"):
        model().fit(X, y, epochs=1, batch_size=16, augment=lambda xb, rng: xb[:, :8])


# --- what run and tune use ---------------------------------------------------------------------


def test_small_affine_resamples_once_so_digits_stay_sharp() -> None:
    X, _ = dr.datasets.load("digits")
    rng = np.random.default_rng(0)
    once = A.small_affine((8, 8))(X[:200], rng)
    twice = A.Compose([A.Rotation(degrees=10), A.Translation(pixels=0.5)],
                      image_shape=(8, 8))(X[:200], rng)
    # the brightest pixel of a digit is 16; each bilinear resampling averages it away a little
    sharp = once.max(axis=1).mean()
    assert sharp > 13.5 and sharp > twice.max(axis=1).mean() + 0.5


def test_the_named_crop_and_rotate_of_8x8_digits_are_the_one_resampling_they_always_were(
) -> None:
    X, _ = dr.datasets.load("digits")
    before = A.Compose([A.Affine(degrees=10, translate=0.5, scale=(0.9, 1.1))],
                       image_shape=(8, 8))
    named = A.for_images(["rotate", "crop"], (8, 8))  # any order: the table's
    np.testing.assert_array_equal(named(X[:50], np.random.default_rng(3)),
                                  before(X[:50], np.random.default_rng(3)))


@pytest.mark.parametrize(("shape", "expected"), [
    ((8, 8), ("crop", "rotate")), ((28, 28, 1), ("crop", "rotate")),  # grey: digits, letters
    ((64, 64, 3), ("flip", "crop", "rotate")), ((32, 32, 4), ("flip", "crop", "rotate")),
])
def test_the_defaults_flip_colour_pictures_only(shape: tuple[int, ...],
                                               expected: tuple[str, ...]) -> None:
    assert A.defaults(shape) == expected
    assert A.chosen(True, shape) == expected
    assert A.chosen(False, shape) == () and A.chosen(True, None) == ()
    assert A.chosen(("distort",), shape) == ("distort",)


def test_flip_alone_mirrors_whole_images_without_resampling(rng: np.random.Generator) -> None:
    X = rng.random((40, 6, 7, 3))
    out = A.for_images(["flip"], (6, 7, 3))(X.reshape(40, -1), rng).reshape(X.shape)
    mirrored = np.array([np.array_equal(o, x[:, ::-1]) for o, x in zip(out, X, strict=True)])
    kept = np.array([np.array_equal(o, x) for o, x in zip(out, X, strict=True)])
    assert np.all(mirrored ^ kept) and 5 < mirrored.sum() < 35


@pytest.mark.parametrize("names", [["crop"], ["rotate"], ["distort"], list(A.TRANSFORMS)])
def test_each_named_transform_moves_pixels_and_brings_in_no_black_border_on_photos(
    names: list[str], rng: np.random.Generator
) -> None:
    photo = np.full((20, 16, 16, 3), 100.0)  # a flat colour: any black pixel came from outside
    photo[:, 4:12, 6:10] = 200.0
    out = A.for_images(names, (16, 16, 3))(photo.reshape(20, -1), rng).reshape(photo.shape)
    assert not np.allclose(out, photo)  # it does something
    assert out.min() >= 100 - 1e-9  # the image's edge continues (mirrored), no fill of 0
    grey = A.for_images(names, (16, 16))(photo[..., 0].reshape(20, -1), rng)
    assert grey.min() < 100  # a grey image's outside is 0, the digits' background


@pytest.mark.parametrize("side", [28, 64])
def test_distort_moves_pixels_a_twentieth_of_the_side_along_each_axis(side: int) -> None:
    # on a ramp (pixel = its column) bilinear resampling is exact: out − in is the shift
    ramp = np.tile(np.arange(side, dtype=np.float64), (100, side, 1))
    out = A.for_images(["distort"], (side, side))(ramp, np.random.default_rng(0))
    inner = slice(side // 4, 3 * side // 4)  # away from the border the field is whole
    moved = (out - ramp)[:, inner, inner]
    assert np.sqrt(np.mean(moved**2)) == pytest.approx(side / 20, rel=0.15)
    distortion = A.for_images(["distort"], (28, 28)).transforms[0]
    assert isinstance(distortion, A.ElasticDistortion)
    assert (round(distortion.alpha), distortion.sigma) == (34, 4.0)  # Simard et al.'s


def test_unknown_transform_names_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^for_images: names must be transforms from flip, "
                       r"crop, rotate, distort; received names=\['spin'\]\."):
        A.for_images(["spin"], (8, 8))


def test_in_raw_units_moves_pixels_not_z_scores_and_clips_to_the_training_range() -> None:
    X, _ = dr.datasets.load("digits")
    scaler = dr.data.Standardizer()
    with pytest.warns(dr.data.ConstantFeatureWarning):
        Z = scaler.fit_transform(X[:500])
    low, high = Z.min(axis=0), Z.max(axis=0)
    shift = A.Compose([A.Translation(pixels=1)], image_shape=(8, 8))
    augment = A.InRawUnits(shift, scaler.mean_, scaler.std_, low, high)
    out = augment(Z[:50].astype(np.float32), np.random.default_rng(0))
    assert out.dtype == np.float32 and out.shape == (50, 64)
    assert np.all(out >= low - 1e-6) and np.all(out <= high + 1e-6)
    raw = scaler.inverse_transform(out.astype(np.float64))
    # what enters from outside the image is background (0 pixels), not the mean pixel
    assert raw.min() > -1e-3 and np.isclose(raw, 0, atol=1e-3).mean() > 0.3


@pytest.mark.parametrize(("make", "message"), [
    (lambda: A.Compose(A.Rotation(10)), r"Compose: transforms must be a list of Transform"),
    (lambda: A.Compose([A.Rotation(10)], image_shape="8x8"),
     r"Compose: image_shape must be \(h, w\) or \(h, w, c\) of positive ints; received "
     r"image_shape='8x8'\."),
    (lambda: A.Compose([A.Rotation(10)], image_shape=(0, 8)), r"Compose: image_shape must"),
    (lambda: A.Affine(scale=1.1), r"Affine: scale must be \(low, high\) with 0 < low <= high; "
     r"received scale=1.1\."),
    (lambda: A.Affine(scale=(0.9, 1.0, 1.1)), r"Affine: scale must be \(low, high\)"),
    (lambda: A.CropAndResize(scale=(0.5,)), r"CropAndResize: scale must be \(low, high\)"),
])
def test_bad_arguments_are_named_when_the_transform_is_built(make, message: str) -> None:
    # they were Python's and NumPy's words ('Rotation' object is not iterable, not enough
    # values to unpack, invalid literal for int()) or, for image_shape=(0, 8), accepted
    with pytest.raises(ValueError, match=message):
        make()


def test_a_negative_int_seed_is_named() -> None:
    with pytest.raises(ValueError, match=r"Rotation: rng must be an integer >= 0; received "
                       r"rng=-1\."):
        A.Rotation(10)(np.zeros((2, 8, 8)), -1)
