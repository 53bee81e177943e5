"""Diagnosis: :func:`diagnose` (bias and variance with the basic recipe's advice),
:func:`gradient_flow` (vanishing, exploding or symmetric layers) and :func:`learning_curve`
(would more data help?); :func:`fit_references` (the yardstick: reference models' errors on the
same split, when no Bayes error is given). Verdicts are codes; advice and remarks are
:class:`~deeprecipe.findings.Finding` objects, said in words by ``str()``.
"""

from ..findings import ACTIONS, Advice, Finding, show_error
from .bias_variance import (
    BIAS_SOURCES,
    BIAS_THRESHOLD,
    CONFIDENCE,
    VARIANCE_THRESHOLD,
    VERDICTS,
    Diagnosis,
    diagnose,
    early_stopping_cost,
    wilson_interval,
)
from .curves import LearningCurve, learning_curve
from .flow import GradientFlow, LayerFlow, gradient_flow
from .yardstick import Reference, Yardstick, fit_references

__all__ = [
    "ACTIONS", "BIAS_SOURCES", "BIAS_THRESHOLD", "CONFIDENCE", "VARIANCE_THRESHOLD", "VERDICTS",
    "Advice", "Diagnosis", "Finding", "GradientFlow", "LayerFlow", "LearningCurve", "Reference",
    "Yardstick", "diagnose", "early_stopping_cost", "fit_references", "gradient_flow",
    "learning_curve", "show_error", "wilson_interval",
]
