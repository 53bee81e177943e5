"""The basic recipe, run automatically: diagnosis → next experiment, explained at each step.

::

    import deeprecipe as dr

    if __name__ == "__main__":    # the worker processes import this script: guard all its work
        X, y = dr.datasets.load("digits")
        splits = dr.data.split(X, y, seed=0)
        result = dr.recipe.tune(splits, budget=30, bayes_error=0.0, folder="runs/digits",
                                image_shape=(8, 8))
        print(result.summary())                    # the decision trail, the choice, test error
        figure = dr.recipe.plot_decision_trail(result)
        result = dr.recipe.tune(splits, folder="runs/digits", resume=True)  # after a crash

=============================  =================================================================
:func:`tune`                   the loop (:mod:`.loop`): baseline, then diagnose → recipe →
                               train candidates in parallel, until low bias and low variance
:class:`TuneResult`, `Round`   what it returns (:mod:`.result`)
:class:`Config`                one candidate network and its training (:mod:`.config`)
:func:`decide`                 the recipe as a decision (:mod:`.policy`)
:class:`TrialStore`            ``trials.sqlite`` (:mod:`.store`)
:class:`LocalRunner`,          where trials run: local processes or a Dask cluster
:class:`DaskRunner`            (:mod:`.runners`)
:func:`plot_decision_trail`    the figure (:mod:`.plots`)
=============================  =================================================================
"""

from .config import Config, build_model
from .loop import MODEL_FOLDER, tune
from .plots import plot_decision_trail
from .policy import BASELINE, Candidate, Decision, Situation, decide, decide_ranked
from .result import Round, TuneResult, rebuild
from .runners import DaskRunner, LocalRunner, Outcome, make_runner
from .store import DATABASE, TrialStore
from .trial import Trial, TrialData, TrialTask, run_trial

__all__ = [
    "BASELINE",
    "DATABASE",
    "MODEL_FOLDER",
    "Candidate",
    "Config",
    "DaskRunner",
    "Decision",
    "LocalRunner",
    "Outcome",
    "Round",
    "Situation",
    "Trial",
    "TrialData",
    "TrialStore",
    "TrialTask",
    "TuneResult",
    "build_model",
    "decide",
    "decide_ranked",
    "make_runner",
    "plot_decision_trail",
    "rebuild",
    "run_trial",
    "tune",
]
