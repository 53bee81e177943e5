"""One look for every figure: colors, sizes and the figure factory.

Figures are :class:`matplotlib.figure.Figure` objects drawn on the Agg canvas directly,
never through ``pyplot``: nothing global changes, nothing opens a window, and a figure is
freed as soon as it is no longer referenced.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sized
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TRAIN, DEV, TEST, BAYES = "#2563eb", "#ea580c", "#16a34a", "#475569"  # blue, orange, green, slate
BIAS, VARIANCE = "#f59e0b", "#a855f7"  # amber: avoidable bias; purple: variance
MUTED, INK = "#94a3b8", "#1e293b"
GOOD, CAUTION, BAD = "#22c55e", "#f59e0b", "#ef4444"
CLASS_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
                "#db2777", "#65a30d", "#78716c", "#ca8a04")

DPI = 120
RC: dict[str, Any] = {  # matplotlib's rcParams, for every figure
    "font.size": 10, "axes.titlesize": 11.5, "axes.titleweight": "bold",
    "axes.titlelocation": "left", "axes.labelsize": 10, "axes.edgecolor": "#cbd5e1",
    "axes.labelcolor": INK, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.color": "#e2e8f0", "grid.linewidth": 0.8, "xtick.color": "#475569",
    "ytick.color": "#475569", "legend.frameon": False, "legend.fontsize": 9,
}


# A decorator: run a drawing function with the shared look (matplotlib reads most of these
# settings when an artist is created, so the whole drawing runs inside the context; a
# contextmanager used as a decorator enters a fresh one on every call).
themed = matplotlib.rc_context(RC)  # type: ignore[arg-type]


def new_figure(width: float, height: float, **subplots: Any) -> tuple[Figure, Any]:
    """A constrained-layout figure on the Agg canvas and its axes (``subplots`` options:
    ``nrows``, ``ncols``, ``squeeze``, …). Call it inside a ``themed`` function."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.subplots(**subplots)


def new_panels(items: Sized, width: float, height: float, pad: float = 0.6, **subplots: Any
               ) -> tuple[Figure, list[Any]]:
    """A figure of one row of ``len(items)`` panels, each ``width`` wide, and their axes."""
    figure, axes = new_figure(width * len(items) + pad, height, ncols=len(items), squeeze=False,
                              **subplots)
    return figure, list(axes[0])


def png_bytes(figure: Figure) -> bytes:
    """The figure rendered as PNG (white background). A label with a character the font
    lacks (a user's column named "１") is drawn as a box, without matplotlib's warning."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
