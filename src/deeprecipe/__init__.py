"""deeprecipe: the practical side of training deep neural networks, in NumPy."""

from . import (
    activations,
    data,
    datasets,
    gradcheck,
    initializers,
    losses,
    optimizers,
    regularizers,
)
from .callbacks import Callback
from .layers import Activation, Dense, Dropout, Layer
from .model import Sequential
from .persistence import load
from .training import History

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Callback",
    "Dense",
    "Dropout",
    "History",
    "Layer",
    "Sequential",
    "__version__",
    "activations",
    "data",
    "datasets",
    "gradcheck",
    "initializers",
    "load",
    "losses",
    "optimizers",
    "regularizers",
]
