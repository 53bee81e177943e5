"""The basic recipe, run automatically: diagnosis → next experiment, explained at each step.

:func:`tune` (:mod:`.loop`) returns a :class:`TuneResult` of :class:`Round` s; a
:class:`Config` is one candidate, :func:`decide` the recipe as a decision (:mod:`.policy`),
:class:`TrialStore` the ``trials.sqlite`` record, :class:`LocalRunner` and
:class:`DaskRunner` where trials run, :func:`plot_decision_trail` the figure.
"""

from .config import Config, build_model
from .loop import MODEL_FOLDER, tune
from .plots import plot_decision_trail
from .policy import BASELINE, Candidate, Decision, Situation, decide, decide_ranked
from .result import Round, TuneResult, rebuild
from .runners import DaskRunner, LocalRunner, Outcome
from .store import DATABASE, TrialStore
from .trial import Trial, TrialData, TrialTask, run_trial

__all__ = [
    "BASELINE", "DATABASE", "MODEL_FOLDER", "Candidate", "Config", "DaskRunner", "Decision",
    "LocalRunner", "Outcome", "Round", "Situation", "Trial", "TrialData", "TrialStore",
    "TrialTask", "TuneResult", "build_model", "decide", "decide_ranked",
    "plot_decision_trail", "rebuild", "run_trial", "tune",
]
