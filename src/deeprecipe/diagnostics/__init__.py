"""Diagnosis: bias and variance with the basic recipe, gradient flow, learning curves.

=========================  ================================================================
:func:`diagnose`           train, dev and Bayes error → verdict and the recipe's advice
                           (:mod:`.bias_variance`)
:func:`gradient_flow`      per-layer activations and gradients → vanishing, exploding,
                           symmetric or healthy (:mod:`.flow`)
:func:`learning_curve`     train and dev error on growing training sets: would more data
                           help? (:mod:`.curves`)
=========================  ================================================================

Verdicts are codes (``"high variance"``); advice and remarks are
:class:`~deeprecipe.findings.Finding` objects, a code and values, said in words by ``str()``.
The diagnosis reads the **inference-mode** train error (dropout off, no penalty, fixed
weights), never the training cost logged while training: see :mod:`.bias_variance`.
"""

from ..findings import ACTIONS, Advice, Finding, show_error
from .bias_variance import (
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

__all__ = [
    "ACTIONS",
    "BIAS_THRESHOLD",
    "CONFIDENCE",
    "VARIANCE_THRESHOLD",
    "VERDICTS",
    "Advice",
    "Diagnosis",
    "Finding",
    "GradientFlow",
    "LayerFlow",
    "LearningCurve",
    "diagnose",
    "early_stopping_cost",
    "gradient_flow",
    "learning_curve",
    "show_error",
    "wilson_interval",
]
