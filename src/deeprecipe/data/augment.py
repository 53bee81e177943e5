"""Data augmentation for images: the notes' flips, rotations, crops and distortions.

Every transform is a callable ``(X, rng) -> X_augmented`` (``rng`` a ``np.random.Generator``
or an int seed) that returns a new array, as ``fit(..., augment=...)`` expects; it runs on
training batches only::

    augment = Compose([Rotation(degrees=12), Translation(pixels=1)], image_shape=(8, 8))
    model.fit(X_train, y_train, validation_data=(X_dev, y_dev), augment=augment)

Images are ``(n, h, w)`` or ``(n, h, w, c)``; flat rows need :class:`Compose` with
``image_shape``. Resampling is ``order=0`` (nearest) or ``1`` (bilinear); ``mode``/``fill``
say what enters from outside the image (``"constant"`` with ``fill=0.0`` by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._checks import as_generator, choice, fail, non_negative, positive_int, real

MODES = ("constant", "nearest", "reflect", "mirror", "wrap")


def as_range(where: str, arg: str, value: Any, top: float = math.inf) -> tuple[float, float]:
    """``value`` as a pair of numbers ``(low, high)`` with ``0 < low <= high <= top``."""
    constraint = "(low, high) with 0 < low <= high" + (f" <= {top:g}" if top < math.inf else "")
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise fail(where, arg, constraint, value)
    low, high = (real(where, arg, v, constraint) for v in value)
    if not 0 < low <= high <= top:
        raise fail(where, arg, constraint, value)
    return low, high


def resampling(where: str, order: Any, mode: Any = "constant", fill: Any = 0.0
               ) -> tuple[int, str, float]:
    """``(order, mode, fill)`` of a resampling transform, checked (order 0 or 1, one of
    :data:`MODES`, a finite fill value)."""
    if order not in (0, 1) or isinstance(order, bool):
        raise fail(where, "order", "0 (nearest) or 1 (bilinear)", order)
    return int(order), choice(where, "mode", mode, MODES), real(where, "fill", fill)


def sample(
    images: np.ndarray, rows: np.ndarray, cols: np.ndarray, order: int, mode: str, fill: float
) -> np.ndarray:
    """``out[i, r, c, :] = images[i, rows[i, r, c], cols[i, r, c], :]``, interpolated, in one
    ``map_coordinates`` call (the batch index is an exact integer coordinate)."""
    from scipy import ndimage  # imported on first use: import deeprecipe stays fast

    n, h, w, channels = images.shape
    stack = images.transpose(0, 3, 1, 2).reshape(n * channels, h, w)
    rows, cols = np.repeat(rows, channels, axis=0), np.repeat(cols, channels, axis=0)
    index = np.broadcast_to(np.arange(n * channels, dtype=np.float64)[:, None, None], rows.shape)
    out = ndimage.map_coordinates(
        stack, np.stack([index, rows, cols]), order=order, mode=mode, cval=fill, prefilter=False
    )
    return out.reshape(n, channels, h, w).transpose(0, 2, 3, 1)


def warp(
    images: np.ndarray, matrices: np.ndarray, offsets: np.ndarray, order: int, mode: str,
    fill: float,
) -> np.ndarray:
    """Per-image affine resampling: output pixel ``p`` reads input ``c + M (p − c) + t``
    (``c`` the image centre, ``matrices`` ``(n, 2, 2)``, ``offsets`` ``(n, 2)``)."""
    _, h, w, _ = images.shape
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    r, c = np.meshgrid(np.arange(h) - centre[0], np.arange(w) - centre[1], indexing="ij")
    M = matrices[:, :, :, None, None]
    rows = centre[0] + M[:, 0, 0] * r + M[:, 0, 1] * c + offsets[:, 0, None, None]
    cols = centre[1] + M[:, 1, 0] * r + M[:, 1, 1] * c + offsets[:, 1, None, None]
    return sample(images, rows, cols, order, mode, fill)


class Transform:
    """Base class: ``transform(X, rng)`` on images; subclasses implement ``apply``."""

    needs_images = True
    image_shape: tuple[int, ...] | None = None  # Compose's: flat rows in, flat rows out

    def __call__(self, X: ArrayLike, rng: np.random.Generator | int) -> np.ndarray:
        where = type(self).__name__
        generator = as_generator(where, "rng", rng)
        array = np.asarray(X)
        if array.dtype.kind not in "biuf" or array.ndim < 2:
            raise fail(where, "X", "a numeric array of rows (n, ...)", array)
        array = array.astype(np.float32 if array.dtype == np.float32 else np.float64, copy=False)
        if not self.needs_images:
            return self.apply(array, generator)
        out = self.apply(self._images(where, array), generator).reshape(array.shape)
        return out.copy() if np.shares_memory(out, X) else out

    def _images(self, where: str, X: np.ndarray) -> np.ndarray:
        """Rows ``X`` as images ``(n, h, w, c)``, by :attr:`image_shape` when it is set."""
        if self.image_shape is not None:
            size = math.prod(self.image_shape)
            if math.prod(X.shape[1:]) != size:
                raise fail(where, "X.shape", f"(n, {size}) or (n, *{self.image_shape}) to match "
                           f"image_shape={self.image_shape}", X.shape)
            X = X.reshape(len(X), *self.image_shape)
        if X.ndim not in (3, 4):
            hint = "flat rows need an image shape: Compose([...], image_shape=(h, w))"
            raise fail(where, "X.ndim", "3 (n, h, w) or 4 (n, h, w, c)", X.ndim,
                       hint if X.ndim == 2 else "")
        return X[..., np.newaxis] if X.ndim == 3 else X

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return new augmented images ``(n, h, w, c)``; never write into ``images``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class Compose(Transform):
    """Apply ``transforms`` in order. ``image_shape`` ((h, w) or (h, w, c)) lets it take flat
    rows ``(n, h·w·c)`` and give flat rows back, as ``fit`` needs."""

    def __init__(self, transforms: Sequence[Transform], image_shape: Sequence[int] | None = None):
        if not isinstance(transforms, Sequence) or not all(
            isinstance(t, Transform) for t in transforms
        ):
            raise fail("Compose", "transforms", "a list of Transform objects", transforms)
        self.transforms = list(transforms)
        dims = list(image_shape) if isinstance(image_shape, (tuple, list, np.ndarray)) else []
        whole = all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims)
        if image_shape is not None and (not whole or len(dims) not in (2, 3) or min(dims) < 1):
            raise fail("Compose", "image_shape", "(h, w) or (h, w, c) of positive ints",
                       image_shape)
        self.image_shape = None if image_shape is None else tuple(int(d) for d in dims)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        for transform in self.transforms:
            images = transform.apply(images, rng)
        return images


class _Flip(Transform):
    axis = 0

    def __init__(self, p: float = 0.5) -> None:
        self.p = real(type(self).__name__, "p", p, "a probability in [0, 1]",
                      lambda v: 0 <= v <= 1)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        flip = rng.random(len(images)) < self.p
        return np.where(flip[:, None, None, None], np.flip(images, axis=self.axis), images)


class HorizontalFlip(_Flip):
    """Mirror each image left–right with probability ``p``."""

    axis = 2


class VerticalFlip(_Flip):
    """Mirror each image top–bottom with probability ``p``."""

    axis = 1


class Affine(Transform):
    """Random affine warp per image: rotation by ``U(−degrees, degrees)``, shear by
    ``U(−shear, shear)`` degrees, zoom by ``U(*scale)`` (> 1 enlarges) and a shift of
    ``U(−translate, translate)`` pixels along each axis. :class:`Rotation` and
    :class:`Translation` are its presets."""

    def __init__(
        self,
        degrees: float = 0.0,
        translate: float = 0.0,
        scale: tuple[float, float] = (1.0, 1.0),
        shear: float = 0.0,
        *,
        order: int = 1,
        mode: str = "constant",
        fill: float = 0.0,
    ) -> None:
        where = type(self).__name__
        self.degrees = non_negative(where, "degrees", degrees)
        self.translate = non_negative(where, "translate", translate)
        self.scale = as_range(where, "scale", scale)
        self.shear = non_negative(where, "shear", shear)
        self.order, self.mode, self.fill = resampling(where, order, mode, fill)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = len(images)
        angle = np.deg2rad(rng.uniform(-self.degrees, self.degrees, n))
        shear = np.tan(np.deg2rad(rng.uniform(-self.shear, self.shear, n)))
        zoom = rng.uniform(self.scale[0], self.scale[1], size=(n,))
        shift = rng.uniform(-self.translate, self.translate, (n, 2))
        cos, sin = np.cos(angle), np.sin(angle)
        # output → input: undo the zoom, the shear, the rotation; the shift moves content by +t.
        # Angles and shifts mean what scipy.ndimage.rotate and shift mean by them.
        rotation = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
        shearing = np.zeros((n, 2, 2))
        shearing[:, 0, 0] = shearing[:, 1, 1] = 1.0
        shearing[:, 0, 1] = shear
        matrices = rotation @ shearing / zoom[:, None, None]
        return warp(images, matrices, -shift, self.order, self.mode, self.fill)


class Rotation(Affine):
    """Rotate each image by an angle drawn from ``U(−degrees, degrees)``."""

    def __init__(
        self, degrees: float = 15.0, *, order: int = 1, mode: str = "constant", fill: float = 0.0
    ) -> None:
        super().__init__(degrees=degrees, order=order, mode=mode, fill=fill)


class Translation(Affine):
    """Shift each image by ``U(−pixels, pixels)`` along each axis (sub-pixel, interpolated)."""

    def __init__(
        self, pixels: float = 1.0, *, order: int = 1, mode: str = "constant", fill: float = 0.0
    ) -> None:
        super().__init__(translate=pixels, order=order, mode=mode, fill=fill)


class RandomCrop(Transform):
    """Pad-and-crop: pad each image by ``padding`` pixels (``mode``: ``"constant"`` with
    ``fill``, ``"edge"`` or ``"reflect"``) and cut an ``h × w`` window at a random position:
    a random whole-pixel shift of at most ``padding``, no interpolation."""

    def __init__(self, padding: int = 1, *, mode: str = "constant", fill: float = 0.0) -> None:
        self.padding = positive_int("RandomCrop", "padding", padding)
        self.mode = choice("RandomCrop", "mode", mode, ("constant", "edge", "reflect"))
        self.fill = real("RandomCrop", "fill", fill)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, h, w, _ = images.shape
        p = self.padding
        width = ((0, 0), (p, p), (p, p), (0, 0))
        if self.mode == "constant":
            padded = np.pad(images, width, mode="constant", constant_values=self.fill)
        else:
            padded = np.pad(images, width, mode=self.mode)  # type: ignore[call-overload]
        top = rng.integers(0, 2 * p + 1, size=(n,))
        left = rng.integers(0, 2 * p + 1, size=(n,))
        rows = top[:, None] + np.arange(h)
        cols = left[:, None] + np.arange(w)
        return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


class CropAndResize(Transform):
    """Crop a random window whose side is a fraction ``U(*scale)`` of the image's, at a
    random position, and resize it back to ``h × w`` (interpolated, ``order`` 0 or 1)."""

    def __init__(self, scale: tuple[float, float] = (0.8, 1.0), *, order: int = 1) -> None:
        self.scale = as_range("CropAndResize", "scale", scale, top=1)
        self.order = resampling("CropAndResize", order)[0]

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, h, w, _ = images.shape
        side = rng.uniform(self.scale[0], self.scale[1], size=(n,))
        room = (1 - side)[:, None] * np.array([(h - 1) / 2, (w - 1) / 2])  # centre may move
        offsets = rng.uniform(-1.0, 1.0, (n, 2)) * room
        matrices = side[:, None, None] * np.eye(2)
        return warp(images, matrices, offsets, self.order, "nearest", 0.0)


class ElasticDistortion(Transform):
    """Simard et al. (2003): move each pixel by a random field, uniform in [−1, 1], smoothed
    by a Gaussian of width ``sigma`` pixels and scaled by ``alpha`` pixels."""

    def __init__(
        self, alpha: float = 1.0, sigma: float = 1.0, *, order: int = 1, mode: str = "constant",
        fill: float = 0.0,
    ) -> None:
        self.alpha = non_negative("ElasticDistortion", "alpha", alpha)
        self.sigma = real("ElasticDistortion", "sigma", sigma, "a number > 0", lambda v: v > 0)
        self.order, self.mode, self.fill = resampling("ElasticDistortion", order, mode, fill)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from scipy import ndimage  # heavy: imported on first use

        n, h, w, _ = images.shape
        fields = rng.uniform(-1.0, 1.0, (2, n, h, w))
        smooth = ndimage.gaussian_filter(fields, sigma=(0, 0, self.sigma, self.sigma),
                                         mode="constant")
        rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        return sample(images, rows + self.alpha * smooth[0], cols + self.alpha * smooth[1],
                      self.order, self.mode, self.fill)


class GaussianNoise(Transform):
    """Add ``N(0, std²)`` noise to every value (any layout, flat rows included)."""

    needs_images = False

    def __init__(self, std: float = 0.1) -> None:
        self.std = non_negative("GaussianNoise", "std", std)

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = rng.normal(0.0, self.std, images.shape).astype(images.dtype, copy=False)
        return images + noise


TRANSFORMS = ("flip", "crop", "rotate", "distort")  # the names ``--augment`` takes
ROTATION_DEGREES = 10.0
ZOOM = (0.9, 1.1)
SHIFT = 1 / 16  # of the image's shorter side: ±½ pixel for 8 × 8 digits, ±4 for 64 × 64
DISTORTION = 1 / 20  # the elastic field's RMS displacement along each axis, of the shorter side
SMOOTHING = 1 / 7  # its Gaussian's σ, of the shorter side (Simard et al.: 4 of 28 pixels)


def colour(image_shape: Sequence[int]) -> bool:
    """Whether images of ``image_shape`` are colour pictures ``(h, w, 3)`` or ``(h, w, 4)``."""
    return len(image_shape) == 3 and image_shape[2] in (3, 4)


def defaults(image_shape: Sequence[int]) -> tuple[str, ...]:
    """The transforms of a bare ``--augment`` (``augment = true``) for images of
    ``image_shape``: ``crop`` and ``rotate``, and ``flip`` for colour pictures only (a
    mirrored cat is still a cat; a mirrored digit or letter, grey ``(h, w)`` images, is
    none)."""
    return ("flip", "crop", "rotate") if colour(image_shape) else ("crop", "rotate")


def chosen(option: bool | Sequence[str], image_shape: Sequence[int] | None
           ) -> tuple[str, ...]:
    """The transforms an ``augment`` option means for images of ``image_shape``: its names,
    the images' :func:`defaults` for ``True``, none for ``False`` or data without images
    (``image_shape=None``)."""
    if image_shape is None or option is False:
        return ()
    return defaults(image_shape) if option is True else tuple(option)


def for_images(names: Sequence[str], image_shape: Sequence[int]) -> Compose:
    """The transforms ``names`` (of :data:`TRANSFORMS`, applied in that order, whatever
    the order given) for rows holding images of ``image_shape`` ``(h, w[, c])``, sized
    by the image's shorter side ``s`` in pixels:

    - ``flip``: :class:`HorizontalFlip`, half of the images;
    - ``crop``: a random crop and zoom: a zoom of ``U(0.9, 1.1)`` and a shift of
      ``U(−s/16, s/16)`` pixels along each axis;
    - ``rotate``: a rotation by ``U(−10°, 10°)``;
    - ``distort``: :class:`ElasticDistortion`, σ = ``s/7`` and an RMS displacement of
      ``s/20`` pixels along each axis, away from the border (for 28 × 28 images Simard et
      al.'s α ≈ 34, σ = 4).

    ``crop`` and ``rotate`` are one :class:`Affine` (each bilinear resampling blurs: one
    resampling keeps 8 × 8 digits sharp). What enters from outside the image is 0 for
    grey images (the digits' background) and the mirrored image for colour pictures
    (:func:`colour`)."""
    unknown = [name for name in names if name not in TRANSFORMS]
    if unknown or not names:
        raise fail("for_images", "names", f"transforms from {', '.join(TRANSFORMS)}", names)
    side = min(int(d) for d in image_shape[:2])
    mode = "reflect" if colour(image_shape) else "constant"
    transforms: list[Transform] = []
    if "flip" in names:
        transforms.append(HorizontalFlip())
    if "crop" in names or "rotate" in names:
        crop = "crop" in names
        transforms.append(Affine(degrees=ROTATION_DEGREES if "rotate" in names else 0.0,
                                 translate=side * SHIFT if crop else 0.0,
                                 scale=ZOOM if crop else (1.0, 1.0), mode=mode))
    if "distort" in names:
        sigma = side * SMOOTHING
        # a uniform field on [−1, 1] (variance 1/3) smoothed by a 2-D Gaussian of width σ
        # has standard deviation 1 / (√3 · 2σ√π): alpha scales that to the RMS displacement
        alpha = side * DISTORTION * math.sqrt(3) * 2 * sigma * math.sqrt(math.pi)
        transforms.append(ElasticDistortion(alpha=alpha, sigma=sigma, mode=mode))
    return Compose(transforms, image_shape=image_shape)


def small_affine(image_shape: Sequence[int]) -> Compose:
    """Small rotations (±10°), shifts (±½ pixel on 8 × 8 digits) and zooms (±10%) in one
    resampling, no flips: :func:`for_images` of ``crop`` and ``rotate``."""
    return for_images(("crop", "rotate"), image_shape)


class InRawUnits:
    """Augment standardized rows in the data's own units: un-standardize with ``mean`` and
    ``std``, apply ``transform`` (e.g. a :class:`Compose` with ``image_shape``), standardize
    again, then clip each feature to ``[low, high]``, the range the standardized training
    set spans (a rotation that lights an almost always dark pixel, of tiny σ, would make a
    z-score the network never saw)."""

    def __init__(self, transform: Callable[[np.ndarray, np.random.Generator], np.ndarray],
                 mean: np.ndarray, std: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
        self.transform, self.mean, self.std = transform, mean, std
        self.low, self.high = low, high

    def __call__(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raw = X * self.std + self.mean
        out = (self.transform(raw, rng) - self.mean) / self.std
        return np.clip(out, self.low, self.high).astype(X.dtype, copy=False)
