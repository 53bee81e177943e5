"""deeprecipe: the practical side of training deep neural networks, in NumPy."""

import importlib
from typing import TYPE_CHECKING, Any

from . import (
    activations,
    data,
    datasets,
    diagnostics,
    gradcheck,
    initializers,
    losses,
    optimizers,
    recipe,
    regularizers,
)
from ._version import __version__
from .callbacks import Callback, EarlyStopping, GradientFlowRecorder
from .diagnostics import Diagnosis, Yardstick, diagnose, fit_references
from .divergence import Divergence
from .findings import Advice, Finding
from .layers import Activation, Dense, Dropout, Layer
from .model import Sequential, load
from .training import History, TrainingState

if TYPE_CHECKING:
    from . import sklearn
    from .sklearn import DeepClassifier, DeepRegressor

__all__ = [
    "Activation", "Advice", "Callback", "DeepClassifier", "DeepRegressor", "Dense", "Diagnosis",
    "Divergence", "Dropout", "EarlyStopping", "Finding", "GradientFlowRecorder", "History",
    "Layer", "Sequential", "TrainingState", "Yardstick", "__version__", "activations", "data",
    "datasets", "diagnose", "diagnostics", "fit_references", "gradcheck", "initializers", "load",
    "losses", "optimizers", "recipe", "regularizers", "sklearn",
]


def __getattr__(name: str) -> Any:
    """``dr.sklearn``, ``dr.DeepClassifier`` and ``dr.DeepRegressor`` are imported on first
    use: scikit-learn takes most of a second to import, which ``import deeprecipe`` and
    every command would otherwise pay (PEP 562)."""
    if name in ("sklearn", "DeepClassifier", "DeepRegressor"):
        module = importlib.import_module(".sklearn", __name__)  # sets dr.sklearn as well
        return module if name == "sklearn" else getattr(module, name)
    raise AttributeError(f"module 'deeprecipe' has no attribute {name!r}")
