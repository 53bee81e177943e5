"""The report's figures: each function draws one :class:`~matplotlib.figure.Figure` from
plain data (History lists, gradient-check reports, counts, a classifier's
:class:`~deeprecipe.diagnostics.views.Regions`) and returns it (never shows it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from . import style
from .style import CLASS_COLORS, DEV, INK, MUTED, TRAIN, new_figure, new_panels, themed

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..diagnostics.views import Points, Regions
    from ..gradcheck import GradcheckReport

NOTES_REFERENCES = ((1e-7, "1e-7 great"), (1e-5, "1e-5 look closer"), (1e-3, "1e-3 worry"))
ZERO_FLOOR = 1e-13  # where a difference of exactly 0 is drawn on the log axis
POINT_LABELS = {"init": "at initialization", "trained": "after training"}
MARKERS = {"train": "o", "train_dev": "D", "dev": "^", "test": "s"}  # each part's points


@themed
def learning_curves(history: Mapping[str, Sequence[float]], *, best_epoch: int | None = None,
                    stopped_epoch: int | None = None, bayes_error: float | None = None,
                    regression: bool = False, bayes_label: str | None = None) -> Figure:
    """Cost (left) and error (right) per epoch, counted from 1 on the x axis
    (``best_epoch`` and ``stopped_epoch`` are the History's indices, from 0).

    Solid lines are measured in inference mode, the dashed one as trained (dropout on,
    penalty in). The error panel draws the Bayes error in the curves' units (``None``: no
    line), in the legend as ``bayes_label`` (which says where it came from: the yardstick,
    given), and at the kept epoch (``best_epoch``, else the last) shades the avoidable bias
    and the variance; epochs after the best one (early stopping's patience) are greyed.
    """
    figure, (cost_ax, error_ax) = new_figure(11, 4.9, ncols=2)
    n = next((len(history[key]) for key in ("train_cost", "train_error", "dev_cost",
                                            "dev_error") if history.get(key)), 0)
    epochs = np.arange(1, n + 1)
    kept = best_epoch if best_epoch is not None and 0 <= best_epoch < n else n - 1

    _series(cost_ax, epochs, history.get("train_cost"), TRAIN, "train, as trained "
            "(dropout on, penalty in)", dashed=True)
    _series(cost_ax, epochs, history.get("train_eval_cost"), TRAIN, "train")
    _series(cost_ax, epochs, history.get("dev_cost"), DEV, "dev")
    cost_ax.set(title="Cost per epoch", xlabel="epoch", ylabel="cost J")

    _series(error_ax, epochs, history.get("train_error"), TRAIN, "train")
    _series(error_ax, epochs, history.get("dev_error"), DEV, "dev")
    if bayes_error is not None:
        error_ax.axhline(bayes_error, color=style.BAYES, lw=1.3, ls=(0, (6, 3)),
                         label=bayes_label or f"Bayes error {bayes_error:.1%}")
    if not regression:
        error_ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _shade_gaps(error_ax, history, kept, bayes_error or 0.0, n, regression)
    error_ax.set(title="Error per epoch" + (" (MSE)" if regression else ""), xlabel="epoch",
                 # deeprecipe run trains a regression on the standardized target
                 ylabel="MSE (target standardized)" if regression else "error")
    error_ax.set_ylim(bottom=0)

    for ax in (cost_ax, error_ax):
        _mark_stopping(ax, best_epoch, stopped_epoch, n)
        ax.set_xlim(0.5, max(n + 0.5, 2))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    return figure


def _series(ax: Axes, epochs: np.ndarray, values: Sequence[float] | None, color: str,
            label: str, dashed: bool = False) -> None:
    if not values:
        return
    y = np.asarray(values, dtype=np.float64)
    look: dict[str, Any] = {"ls": "--", "lw": 1.2, "alpha": 0.55} if dashed else {"lw": 2.0}
    ax.plot(epochs[: len(y)], y, color=color, label=label, marker=_marker(y), ms=3.5, **look)


def _marker(y: np.ndarray) -> str | None:
    return "o" if len(y) <= 20 else None  # a marker per point while they stay apart


def _shade_gaps(ax: Axes, history: Mapping[str, Sequence[float]], epoch: int,
                bayes: float, n: int, regression: bool) -> None:
    """Avoidable bias (Bayes → train; none where train is at or below the Bayes line, as
    under a yardstick) and variance (train → dev) as stacked bars at ``epoch``, read from
    the curves."""
    train, dev = history.get("train_error"), history.get("dev_error")
    if not train or not dev or epoch >= min(len(train), len(dev)):
        return
    train_at, dev_at = float(train[epoch]), float(dev[epoch])
    floor = 0.0 if regression else bayes
    width = max(0.6, 0.05 * n)
    fmt = (lambda v: f"{v:.3g}") if regression else (lambda v: f"{v:.1%}")
    if not regression and train_at > floor:
        ax.bar(epoch + 1, train_at - floor, bottom=floor, width=width, color=style.BIAS,
               alpha=0.55, label=f"avoidable bias {fmt(train_at - floor)}", zorder=1)
    ax.bar(epoch + 1, dev_at - train_at, bottom=train_at, width=width, color=style.VARIANCE,
           alpha=0.45, label=f"variance {fmt(dev_at - train_at)}", zorder=1)


def _mark_stopping(ax: Axes, best: int | None, stopped: int | None, n: int) -> None:
    if best is None or not 0 <= best < n:
        return
    ax.axvline(best + 1, color=INK, lw=1.1, ls=":", zorder=2)
    ax.annotate(f"kept: epoch {best + 1}", xy=(best + 1, 1.0), xycoords=("data", "axes fraction"),
                xytext=(-3, -4), textcoords="offset points", va="top", ha="right",
                rotation=90, fontsize=8.5, color=INK)
    last = n - 1 if stopped is None else min(stopped, n - 1)
    if last > best:
        ax.axvspan(best + 1, last + 1.5, color="#f1f5f9", zorder=0, lw=0)


@themed
def gradcheck_bars(reports: Mapping[str, GradcheckReport]) -> Figure:
    """The relative difference of each check (``{"init": report, "trained": report}``) per
    parameter block, log scale, over the verdict bands (green, amber, red) and the notes'
    reference lines 1e-7, 1e-5, 1e-3. An uninformative block is hatched, a difference of
    exactly 0 drawn at the left edge."""
    blocks = block_names(reports)
    height = 1.6 + 0.42 * len(blocks) * max(1, len(reports)) ** 0.5
    figure, ax = new_figure(9.5, height)
    finite = [float(block.difference) for report in reports.values()
              for block in report.blocks.values() if block.difference > 0]
    low = min([1e-10, *(v / 10 for v in finite)])
    high = max([1e-1, *(v * 10 for v in finite)])
    bands = next(iter(reports.values())).bands if reports else (1e-6, 1e-4)
    ax.axvspan(low, bands[0], color=style.GOOD, alpha=0.12, lw=0)
    ax.axvspan(bands[0], bands[1], color=style.CAUTION, alpha=0.14, lw=0)
    ax.axvspan(bands[1], high, color=style.BAD, alpha=0.12, lw=0)
    for reference, label in NOTES_REFERENCES:
        ax.axvline(reference, color=MUTED, lw=1, ls="--", zorder=1)
        ax.annotate(label, xy=(reference, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, 2), textcoords="offset points", fontsize=8, color=INK)

    colors = {"init": "#64748b", "trained": TRAIN, "current": TRAIN}
    bar = 0.8 / max(1, len(reports))
    for k, (point, report) in enumerate(reports.items()):
        offset = (k - (len(reports) - 1) / 2) * bar
        color = colors.get(point, CLASS_COLORS[k])
        for i, name in enumerate(blocks):
            if (block := report.blocks.get(name)) is None:
                continue
            value = float(block.difference)
            zero = value <= 0
            hollow = block.uninformative  # nothing to judge
            right = ZERO_FLOOR if zero else value
            ax.barh(i + offset, right - low, left=low, height=bar * 0.9,
                    color="white" if hollow else color, edgecolor=color,
                    hatch="///" if hollow else None,
                    label=POINT_LABELS.get(point, point) if i == 0 else None, zorder=2)
            text = ("0" if zero else f"{value:.1e}") + (" (uninformative)" if hollow else "")
            ax.annotate(text, xy=(right, i + offset), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7.5, color=INK)
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.set_yticks(range(len(blocks)), blocks)
    ax.set_ylim(len(blocks) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("relative difference ‖dθ_approx − dθ‖ / (‖dθ_approx‖ + ‖dθ‖)")
    ax.set_title("Gradient check per parameter block", pad=16)
    ax.legend(loc="lower right", frameon=True, framealpha=0.9)
    return figure


def block_names(reports: Mapping[str, GradcheckReport]) -> list[str]:
    """Every block of ``reports``, in order of first appearance."""
    return list(dict.fromkeys(name for report in reports.values() for name in report.blocks))


@themed
def gradient_norms(norms: Mapping[str, Sequence[float]], epochs: Sequence[int] | None = None,
                   *, verdict: str | None = None) -> Figure:
    """``||dW||`` of each layer at each recorded epoch, log scale, from the first layer
    (dark) to the last (light): lines fanning apart mean vanishing or exploding gradients."""
    figure, ax = new_figure(9.5, 4.0)
    colors = [colormaps["viridis"](0.9 * i / max(1, len(norms) - 1)) for i in range(len(norms))]
    drawn = False
    for color, (layer, values) in zip(colors, norms.items(), strict=True):
        y = np.asarray(values, dtype=np.float64)
        y = np.where(y > 0, y, np.nan)  # a zero gradient has no place on a log axis
        x = 1 + np.asarray(epochs if epochs is not None else range(len(y)))[: len(y)]
        if np.isfinite(y).any():
            ax.plot(x, y, color=color, lw=2, label=layer, marker=_marker(y), ms=3.5)
            drawn = True
    if drawn:
        log_y(ax)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    else:
        ax.text(0.5, 0.5, "every recorded gradient is exactly 0", transform=ax.transAxes,
                ha="center", color=INK)
    suffix = f": {verdict}" if verdict else ""
    ax.set(title=f"Gradient norms ‖dW‖ per layer over training{suffix}", xlabel="epoch",
           ylabel="‖dW‖ (Frobenius)")
    return figure


def log_y(ax: Axes) -> None:
    """A log y axis labelled with plain numbers (0.3, 0.02, 1e-05); the minor ticks (2, 3,
    …, 9 × 10ᵏ) are labelled too when the data span less than two decades."""
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    short = high / low < 100 if low > 0 else False
    ax.yaxis.set_minor_formatter(FuncFormatter(_plain_minor) if short else NullFormatter())


def _plain(value: float, _position: int | None = None) -> str:
    return f"{value:.0e}" if value < 1e-3 or value >= 1e4 else f"{value:g}"


def _plain_minor(value: float, _position: int | None = None) -> str:
    """Label 2 and 5 × 10ᵏ only: enough to read a value, few enough to stay legible."""
    mantissa = round(value / 10 ** np.floor(np.log10(value)), 6)
    return _plain(value) if mantissa in (2.0, 5.0) else ""


@themed
def predictions(true: np.ndarray, predicted: np.ndarray) -> Figure:
    """A regression's predicted against true values on the dev set, the line
    ``predicted = true``, the MSE and R²."""
    true = np.asarray(true, dtype=np.float64).ravel()
    predicted = np.asarray(predicted, dtype=np.float64).ravel()
    figure, ax = new_figure(5.6, 5.2)
    low = float(min(true.min(), predicted.min()))
    high = float(max(true.max(), predicted.max()))
    pad = 0.04 * (high - low or 1.0)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], color=MUTED, lw=1.2, ls="--",
            label="predicted = true", zorder=1)
    ax.scatter(true, predicted, s=16, color=DEV, alpha=0.7, edgecolors="none", zorder=2,
               label=f"{len(true)} examples")
    mse = float(np.mean((predicted - true) ** 2))
    spread = float(np.var(true))
    r2 = 1 - mse / spread if spread > 0 else float("nan")
    ax.set(xlim=(low - pad, high + pad), ylim=(low - pad, high + pad), xlabel="true value",
           ylabel="predicted value", title=f"Predictions, dev set: MSE {mse:.4g}, R² {r2:.3f}")
    ax.set_aspect("equal")
    ax.legend(loc="upper left")
    return figure


@themed
def confusion_matrix(counts: np.ndarray, classes: Sequence[Any] | None = None) -> Figure:
    """The dev set's ``(k, k)`` counts (rows: true class): the diagonal in blue by the share of its
    class got right, the mistakes in red by the share of the true class they took."""
    counts = np.asarray(counts)
    k = counts.shape[0]
    names = [str(c) for c in (classes if classes is not None else range(k))]
    size = min(8.0, max(4.6, 2.4 + 0.4 * k))
    figure, ax = new_figure(size, size)
    totals = counts.sum(axis=1, keepdims=True)
    fractions = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    diagonal = np.eye(k, dtype=bool)
    worst = max(0.1, float(fractions[~diagonal].max(initial=0.0)))
    ax.imshow(np.ma.masked_where(~diagonal, fractions), cmap="Blues", vmin=0, vmax=1)
    ax.imshow(np.ma.masked_where(diagonal | (counts == 0), fractions), cmap="Reds", vmin=0,
              vmax=worst * 1.15)
    for i in range(k):
        for j in range(k):
            if counts[i, j] or i == j:
                dark = fractions[i, j] > (0.55 if i == j else 0.6 * worst)
                ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center",
                        fontsize=9 if k <= 12 else 7, color="white" if dark else INK)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.grid(False)
    accuracy = np.trace(counts) / max(1, counts.sum())
    ax.set(xlabel="predicted class", ylabel="true class",
           title=f"Confusion matrix, dev set: {accuracy:.1%} correct")
    return figure


@themed
def cost_curves(curves: Mapping[str, Sequence[float]], *, title: str) -> Figure:
    """The cost per epoch of several runs (``{label: costs}``, from the cost at
    initialization), log scale."""
    figure, ax = new_figure(8.5, 4.0)
    for color, (label, values) in zip(CLASS_COLORS, curves.items(), strict=False):
        y = np.asarray(values, dtype=np.float64)
        ax.plot(np.arange(len(y)), y, color=color, lw=2, label=label)
    log_y(ax)
    ax.set(title=title, xlabel="epoch (0 = at initialization)", ylabel="cost J")
    ax.legend(loc="upper right")
    return figure


@themed
def train_dev_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> Figure:
    """One panel per run (``{label: (train, dev)}``): train (solid) and dev (dashed) per
    epoch, on a shared y axis."""
    figure, axes = new_panels(curves, 4.0, 3.6, sharey=True)
    for ax, (label, (train, dev)) in zip(axes, curves.items(), strict=True):
        ax.plot(np.arange(len(train)), train, color=TRAIN, lw=2, label="train")
        ax.plot(np.arange(len(dev)), dev, color=DEV, lw=2, ls="--", label="dev")
        ax.set(title=label, xlabel="epoch")
    axes[0].set_ylabel("cost J (data term)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper right", ncol=2)
    return figure


@themed
def unit_weights(layers: Mapping[str, np.ndarray]) -> Figure:
    """One heat map per run (``{label: (3, units)}``): a column per hidden unit (its weights
    from x₁ and x₂, then its bias). Identical columns are identical units."""
    figure, axes = new_panels(layers, 4.0, 2.8)
    for ax, (label, weights) in zip(axes, layers.items(), strict=True):
        limit = float(np.abs(weights).max()) or 1.0
        image = ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_xticks(range(weights.shape[1]), [str(j + 1) for j in range(weights.shape[1])])
        ax.set_yticks(range(weights.shape[0]), ["x₁", "x₂", "b"][: weights.shape[0]])
        ax.grid(False)
        distinct = len(np.unique(weights.T, axis=0))
        ax.set(title=f"{label}: {distinct} distinct of {weights.shape[1]}", xlabel="unit")
        figure.colorbar(image, ax=ax, shrink=0.85)
    return figure


@themed
def decision_boundary(regions: Regions, points: Sequence[Points], *,
                      title: str = "Decision boundary") -> Figure:
    """One panel: a model's decision ``regions`` over ``points``."""
    figure, ax = new_figure(7.0, 5.6)
    draw_boundary(ax, regions, points)
    ax.set_title(title)
    _legend(ax, points)
    return figure


@themed
def boundary_panels(panels: Mapping[str, Regions], points: Sequence[Points]) -> Figure:
    """Several models' regions side by side on the same points, one panel each
    (``{title: regions}``); what the experiments show."""
    figure, axes = new_panels(panels, 4.2, 4.4, pad=1.2)
    for ax, (title, regions) in zip(axes, panels.items(), strict=True):
        draw_boundary(ax, regions, points)
        ax.set_title(title, fontsize=10.5)
    _legend(axes[-1], points)
    return figure


def draw_boundary(ax: Axes, regions: Regions, points: Sequence[Points]) -> None:
    """Draw decision ``regions`` and ``points`` on ``ax``."""
    gx, gy = np.meshgrid(regions.xs, regions.ys)
    k = regions.proba.shape[-1]
    if k == 2:
        p1 = regions.proba[..., 1]
        shades = LinearSegmentedColormap.from_list(
            "binary", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])
        ax.contourf(gx, gy, p1, levels=np.linspace(0, 1, 11), cmap=shades, alpha=0.45)
        if p1.min() < 0.5 < p1.max():
            ax.contour(gx, gy, p1, levels=[0.5], colors=INK, linewidths=1.5)
    else:
        labels = regions.proba.argmax(axis=-1)
        palette = ListedColormap([CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(k)])
        ax.contourf(gx, gy, labels, levels=np.arange(k + 1) - 0.5, cmap=palette, alpha=0.25)
    for part in points:  # the held-out points, which judge the boundary, in front
        train = part.label == "train"
        colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in part.y]
        ax.scatter(part.X[:, 0], part.X[:, 1], c=colors, s=14 if train else 30,
                   alpha=0.55 if train else 1.0, marker=MARKERS.get(part.label, "o"),
                   edgecolors="white" if train else INK, linewidths=0.5 if train else 0.7,
                   zorder=3 if train else 4)
    ax.set(xlabel="x₁", ylabel="x₂")
    ax.set_xlim(regions.xs[0], regions.xs[-1])
    ax.set_ylim(regions.ys[0], regions.ys[-1])
    ax.grid(False)


def _legend(ax: Axes, points: Sequence[Points]) -> None:
    classes = sorted({int(c) for p in points for c in np.unique(p.y)})
    handles = [Line2D([], [], ls="", marker="o", color=CLASS_COLORS[c % len(CLASS_COLORS)],
                      label=f"class {c}") for c in classes]
    handles += [Line2D([], [], ls="", marker=MARKERS.get(p.label, "o"), color="#64748b",
                       label=p.label) for p in points]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))


__all__ = ["boundary_panels", "confusion_matrix", "cost_curves", "decision_boundary",
           "gradcheck_bars", "gradient_norms", "learning_curves", "predictions",
           "train_dev_curves", "unit_weights"]
