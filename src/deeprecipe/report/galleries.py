"""The report's image galleries as figures (:func:`augmented` and :func:`mistakes`), drawn
from :mod:`deeprecipe.diagnostics.galleries`' data. Pixels are shown as the data holds them:
grey images on one grey scale from the gallery's darkest to its brightest value, colour
pictures (``(h, w, 3)``, RGB) scaled by the same two numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import BAD, INK, MUTED, new_figure, themed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..diagnostics.galleries import Augmented, Mistakes

CELL = 1.15  # inches per image
COLUMNS = 8  # images per row of the mistakes gallery


@themed
def augmented(gallery: Augmented) -> Figure:
    """One row per training image: the original, then its augmented versions."""
    k, v = gallery.versions.shape[:2]
    figure, axes = new_figure(CELL * (v + 1) + 0.2, CELL * k + 0.45, nrows=k, ncols=v + 1,
                              squeeze=False)
    low, high = _range(gallery.originals, gallery.versions)
    for row in range(k):
        _image(axes[row][0], gallery.originals[row], low, high)
        for column in range(v):
            _image(axes[row][column + 1], gallery.versions[row, column], low, high)
    axes[0][0].set_title("original", fontsize=9, color=INK)
    for column in range(v):
        axes[0][column + 1].set_title(f"augmented {column + 1}", fontsize=9, color=MUTED)
    return figure


@themed
def mistakes(gallery: Mistakes) -> Figure:
    """The dev images the network gets wrong, each titled ``true → predicted`` and the
    network's confidence (a regression's: both values)."""
    n = len(gallery.images)
    columns = min(COLUMNS, n)
    rows = -(-n // columns)
    figure, axes = new_figure(CELL * 1.25 * columns + 0.2, CELL * 1.4 * rows + 0.2,
                              nrows=rows, ncols=columns, squeeze=False)
    low, high = _range(gallery.images)
    for index, ax in enumerate(np.ravel(axes)):
        if index >= n:
            ax.set_axis_off()
            continue
        _image(ax, gallery.images[index], low, high)
        true, predicted = gallery.true[index], gallery.predicted[index]
        if gallery.confidence is None:
            title = f"{true:.3g} → {predicted:.3g}"
        else:
            title = f"{_short(true)} → {_short(predicted)}\n{_percent(gallery.confidence[index])}"
        ax.set_title(title, fontsize=8, color=BAD, fontweight="normal", loc="center")
    return figure


def _range(*images: np.ndarray) -> tuple[float, float]:
    """The darkest and brightest value of ``images`` (a flat gallery: one apart)."""
    low = min(float(np.min(batch)) for batch in images)
    high = max(float(np.max(batch)) for batch in images)
    return low, high if high > low else low + 1.0


def _image(ax: Axes, image: np.ndarray, low: float, high: float) -> None:
    """One image without axes: colour (RGB, or RGBA without its alpha) scaled to [0, 1],
    anything else grey (its first channel) on a ``low``–``high`` scale."""
    if image.ndim == 3 and image.shape[2] in (3, 4):
        shown: Any = np.clip((image[..., :3] - low) / (high - low), 0.0, 1.0)
        ax.imshow(shown, interpolation="nearest")
    else:
        grey = image[..., 0] if image.ndim == 3 else image
        ax.imshow(grey, cmap="gray", vmin=low, vmax=high, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _percent(probability: float) -> str:
    """A confidence as a whole percentage; above 99.5% it is ``>99%``, not a sure 100%."""
    return ">99%" if probability >= 0.995 else f"{probability:.0%}"


def _short(label: Any, width: int = 12) -> str:
    """A label that fits under an image."""
    text = str(label)
    return text if len(text) <= width else text[:width - 1] + "…"
