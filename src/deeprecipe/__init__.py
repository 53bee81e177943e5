"""deeprecipe: the practical side of training deep neural networks, in NumPy."""

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
    sklearn,
)
from .advice import Advice
from .callbacks import Callback, EarlyStopping, GradientFlowRecorder
from .diagnostics import Diagnosis, diagnose
from .divergence import Divergence
from .layers import Activation, Dense, Dropout, Layer
from .model import Sequential
from .persistence import load
from .sklearn import DeepClassifier, DeepRegressor
from .training import History, TrainingState

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Advice",
    "Callback",
    "DeepClassifier",
    "DeepRegressor",
    "Dense",
    "Diagnosis",
    "Divergence",
    "Dropout",
    "EarlyStopping",
    "GradientFlowRecorder",
    "History",
    "Layer",
    "Sequential",
    "TrainingState",
    "__version__",
    "activations",
    "data",
    "datasets",
    "diagnose",
    "diagnostics",
    "gradcheck",
    "initializers",
    "load",
    "losses",
    "optimizers",
    "recipe",
    "regularizers",
    "sklearn",
]
