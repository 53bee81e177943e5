"""Findings as data: a code and its values (:class:`Finding`, and :class:`Advice`, a finding
that names a step of the basic recipe), said in words only where people read them by
:func:`say` (or ``str()``) from the code's template in :data:`TEXTS`. Tests assert codes.
:func:`jsonable` turns findings, and every record deeprecipe writes, into JSON types.

A template is a :meth:`str.format` string over the values, with the format specs ``{gap:err}``
(:func:`show_error`), ``{layers:names}`` (``dense_1…dense_9``) and ``{layers:shares}``
(``dense_1 (75%)``, from ``(name, share)`` pairs); or a function of the values.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from functools import partial
from typing import Any

import numpy as np

from ._checks import choice

ACTIONS = (
    "bigger_network", "train_longer", "better_optimizer", "other_architecture", "more_data",
    "augment", "regularize_l2", "dropout", "early_stopping", "lower_learning_rate", "better_init",
    "clip_gradients", "normalize_inputs", "stop", "better_features", "simpler_model",
    "match_training_data",
)


COURSE_SETS = {"train": "training set", "dev": "validation (dev) set", "test": "test set"}


def show_error(value: float | None, regression: bool = False) -> str:
    """An error for people: a percentage, or a regression's mean squared error; ``–`` for
    none. The one format of the diagnosis, the reports and the command line."""
    if value is None:
        return "–"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if regression else f"{value:.2%}"


def layer_names(names: Sequence[str]) -> str:
    """``dense_1…dense_9`` for a run of consecutive layers, else a comma list."""
    names = list(names)
    if len(names) > 2:
        kinds = {name.rsplit("_", 1)[0] for name in names}
        numbers = [int(name.rsplit("_", 1)[1]) for name in names]
        if len(kinds) == 1 and numbers == list(range(numbers[0], numbers[0] + len(names))):
            return f"{names[0]}…{names[-1]}"
    return ", ".join(names)


def _shares(pairs: Sequence[tuple[str, float]]) -> str:
    """``dense_1…dense_9 (100%)`` when the shares agree, else ``dense_2 (62%), …``."""
    shares = {f"{share:.0%}" for _, share in pairs}
    if len(shares) == 1:
        return f"{layer_names([name for name, _ in pairs])} ({shares.pop()})"
    return ", ".join(f"{name} ({share:.0%})" for name, share in pairs)


def _init_hint(values: Mapping[str, Any]) -> str:
    """``use init='he' (rms(W)·√n[l-1] = √2) for dense_1…dense_9 (relu)``, from ``inits``."""
    return "use " + "; ".join(f"init={init!r} (rms(W)·√n[l-1] = {gain}) for "
                              f"{layer_names(names)} ({activation})"
                              for init, gain, names, activation in values["inits"])


def _scale(values: Mapping[str, Any]) -> str:
    low, high = values["scale"]
    return f"{low:.3g}" if high - low <= 0.01 * high else f"{low:.3g}–{high:.3g}"


def _diverged_at(values: Mapping[str, Any]) -> str:
    """``training diverged at epoch 3, batch 2: …`` (counted from 1, like every report)."""
    v, batch = values, values["batch"]
    where = f"epoch {v['epoch'] + 1}" + ("" if batch is None else f", batch {batch + 1}")
    what = {
        "weights": f"non-finite weights in {v['parameter']}",
        "activations": f"activations overflowed from {v['layer']} on",
        "gradients": f"gradients overflowed from {v['parameter']} backwards",
        "cost": f"the loss overflowed at the output layer {v['layer']}",
        "growth": f"the training cost grew to {v['cost']:.3g}, more than {v['growth']:,.0f} × "
                  f"its lowest value {v['lowest'] or 0.0:.3g}",
    }[v["source"]]
    return f"training diverged at {where}: {what}"


def _bias_not_shown(values: Mapping[str, Any]) -> str:
    """``the training error 2219 is below the best dev error a reference reached …``."""
    v, show = values, partial(show_error, regression=values["regression"])
    where = "below" if v["train"] <= v["reference"] else \
        f"within {show(v['threshold'])} of"
    return (f"the training error {show(v['train'])} is {where} the best dev error a reference "
            f"model reached ({v['model']}: {show(v['reference'])}): the remaining bias is not "
            "shown to be avoidable; better features or a human-level Bayes error would tell")


def _held(values: Mapping[str, Any]) -> str:
    """The set variance is read on: ``train-dev`` with two sources, else ``dev``."""
    return str(values.get("part", "dev"))


def _reaches(values: Mapping[str, Any]) -> str:
    """``Ridge(alpha=10) reaches dev error 2772, the network 3095`` (train-dev error with
    two sources)."""
    show = partial(show_error, regression=values["regression"])
    return (f"{values['model']} reaches {_held(values)} error {show(values['reference'])}, "
            f"the network {show(values['dev'])}")


def _recipe_errors(values: Mapping[str, Any]) -> str:
    """``high bias (train error 15.00%, …: avoidable bias 15.00%, variance 1.00%)``: the
    verdict and the numbers a recipe's decision read (no gaps for a run that diverged); the
    Bayes error is the yardstick's, its reference named, when ``reference`` is given."""
    v, show = values, partial(show_error, regression=values["regression"])
    bayes = f"Bayes error {show(v['bayes'])}" if v.get("reference") is None else \
        f"yardstick {show(v['bayes'])} ({v['reference']})"
    errors = f"train error {show(v['train'])}, dev error {show(v['dev'])}, {bayes}"
    if not v["diverged"]:
        errors += f": avoidable bias {show(v['bias'])}, variance {show(v['variance'])}"
        if v.get("mismatch") is not None:
            errors += f", data mismatch {show(v['mismatch'])}"
    return f"{v['verdict']} ({errors})"


RECIPE_WHY = {  # why the recipe takes each step (deeprecipe.recipe.policy)
    "lower_learning_rate": "training diverged (its cost grew by orders of magnitude): the "
                           "learning rate is the first suspect",
    "bigger_network": "a bigger network fits the training set better, and regularized well "
                      "it does not hurt variance much (the notes' first step against bias)",
    "train_longer": "training longer lets the network fit the training set",
    "better_optimizer": "another optimizer setting: a different learning rate may reach a "
                        "lower training error",
    "simpler_model": "a reference model generalizes better than the network, a variance or "
                     "architecture problem, not a bias one: a narrower or shallower network "
                     "has less room to overfit",
    "more_data": "more data is the surest cure for variance, but a tune cannot collect it: a "
                 "learning curve of the best model says whether getting more would help",
    "augment": "augmented images are more training data for free",
    "regularize_l2": "L2 regularization keeps the weights small and the function simpler",
    "dropout": "dropout keeps units from co-adapting, a regularizer like L2",
}


def _recipe_step(why: str) -> Callable[[Mapping[str, Any]], str]:
    def text(v: Mapping[str, Any]) -> str:
        epochs = "" if v.get("epochs") is None else (
            f"; the best model used all its {v['epochs']} epochs and its dev cost was still "
            "falling")
        regularized = ("; note that too much regularization also causes high bias"
                       if v.get("regularized") else "")
        return f"{_recipe_errors(v)}: {why}{epochs}{regularized}"

    return text


def _noise(values: Mapping[str, Any]) -> str:
    """Why the noise floor left blocks (or the whole check) without a verdict, and the fix."""
    v, steps = values, f"{values['step']:g} or {10 * values['step']:g}"
    fix = {"smaller_epsilon": f"use a smaller epsilon ({steps}): at {v['epsilon']:g} "
                              "truncation dominates",
           "larger_epsilon": f"use a larger epsilon ({steps})",
           "larger_gradients": "check at a point with larger gradients"}[v["fix"]]
    if v["float64"] and v["fix"] != "smaller_epsilon":  # J computed in a lower precision
        joint = " or " if v["fix"] == "larger_epsilon" else ", "
        fix = "compute the cost in float64" + joint + fix
    what = (f"every gradient is within the finite-difference noise floor (≈{v['noise']:.1e} "
            "relative), so nothing was verified" if v["verdict"] == "uninformative" else
            f"the finite-difference error (rounding and truncation, ≈{v['noise']:.1e} "
            "relative) is as large as the difference")
    return f"{v['verdict']} at this precision: {what}. help: {fix}"


NORMALIZE = "normalize the inputs (x − μ) / σ with the training set's statistics"
OVERSHOOT = "e.g. by 10×: steps too large make the cost overshoot and blow up"
TARGET = ("the network learned the target standardized with the training set's mean "
          "({mean:.4g}) and σ ({scale:.4g})")
CHANGE = "from {first} to {last} examples the dev error went {dev_first:.2%} → {dev_last:.2%}"
PRECISION = ("precision: your {dtypes} gradients differ from the float64 ones by {gap:.1e} "
             "(relative)")
Template = str | Callable[[Mapping[str, Any]], str]

TEXTS: dict[str, Template] = {
    # the basic recipe's steps (diagnose)
    "bigger_network": "more hidden units or more layers: the network cannot fit the training "
                      "set yet",
    "train_longer": "more epochs (or a better optimizer) until the training error stops falling",
    "more_data": "more training data is the surest cure for variance",
    "augment": "data augmentation (flips, shifts, distortions) when more real data cannot be had",
    "regularize_l2": "L2 regularization (raise λ): smaller weights, a simpler function",
    "dropout": "dropout (lower keep_prob on the largest layers)",
    "other_architecture": "a different architecture (CNN, RNN, …) may suit the problem better",
    "stop": "low bias and low variance: report the test error and ship",
    "better_features": "more informative inputs: the error left may be the data's own "
                       "noise, which no network removes",
    "simpler_model": "fewer units or layers: a reference model generalizes better",
    "match_training_data": "make the training data more like the dev data (collect or "
                           "synthesize training examples like it, or move some of the data "
                           "you care about into training): a bigger network or "
                           "regularization does not close a data mismatch",
    "simpler_model:reference": lambda v: f"fewer units or layers: {_reaches(v)}",
    # divergence
    "diverged_at": _diverged_at,
    "lower_learning_rate": "lower the learning rate, " + OVERSHOOT,
    "lower_learning_rate:was": "lower the learning rate (it was {learning_rate:g}), " + OVERSHOOT,
    "normalize_inputs": NORMALIZE,
    "normalize_inputs:reach": NORMALIZE + ": feature means reach {mean:.3g} and standard "
                              "deviations {std:.3g}",
    "better_init": "initialize with Var(W) = 2/n[l-1] (init='he') for ReLU layers and "
                   "1/n[l-1] (init='xavier') for tanh",
    "better_init:layer": "{layer} ({activation}) uses init={init!r}: use "
                         "init={recommended!r} (Var(W) = {variance})",
    # gradient flow
    "better_init:symmetric": lambda v: (
        f"the units of {layer_names(v['layers'])} are identical (as after init='zeros') and "
        f"get identical gradients, so they stay identical: initialize randomly — "
        f"{_init_hint(v)}"),
    "better_init:exploding": lambda v: (
        f"signals grow layer after layer through {layer_names(v['layers'])} (rms(W)·√n[l-1] "
        f"= {_scale(v)}); {_init_hint(v)}"),
    "better_init:vanishing": lambda v: (
        f"signals shrink layer after layer through {layer_names(v['layers'])} "
        f"(rms(W)·√n[l-1] = {_scale(v)}); {_init_hint(v)}"),
    "other_architecture:sigmoid": "gradients shrink layer after layer through {layers:names} "
                                  "although rms(W)·√n[l-1] is Xavier's 1: the sigmoid's slope "
                                  "is at most ¼, so each sigmoid layer divides the backward "
                                  "signal by 4 or more; use tanh or relu in the hidden layers",
    "lower_learning_rate:exploding": "large gradients make gradient descent overshoot: lower "
                                     "the learning rate until the scale is fixed",
    "dead_relu": "most ReLU units are dead (0 on every example) in {layers:shares}: lower the "
                 "learning rate, use He init or leaky_relu",
    "saturated": "most tanh/sigmoid outputs are saturated (gradient ≈ 0) in {layers:shares}: "
                 "use Xavier init and normalized inputs",
    "no_hidden_layers": "no hidden layers: nothing can vanish or explode",
    # the diagnosis's remarks
    "bayes_too_high": "the training error is below the Bayes error you gave: is the Bayes "
                      "(human-level) error estimate too high?",
    "bias_not_shown": _bias_not_shown,
    "reference_better": lambda v: f"{_reaches(v)}: a variance or architecture problem, not a "
                                  "bias one",
    "dev_below_train": "the dev error is {gap:err} below the training error, which variance "
                       "cannot explain: check that the dev set comes from the training set's "
                       "distribution (dr.data.compare) and that the train error is measured "
                       "with dropout off; a small dev set can also show it by chance",
    "no_fix_for_bias": "more data will not fix bias (or not efficiently): fix the fit first, "
                       "then variance",
    "bigger_is_safe": "a bigger network, regularized well, reduces bias without hurting "
                      "variance much",
    "data_mismatch": "data mismatch: the dev error ({dev:err}) is {gap:err} above the "
                     "train-dev error ({train_dev:err}) of held-out rows of the training "
                     "distribution: the network does well on data like its training data, "
                     "and the dev data are different",
    "data_is_safe": "more data reduces variance without hurting bias much",
    "variance_not_significant": lambda v: (
        f"the variance gap is not significant: with {v['n_dev']} {_held(v)} examples the "
        f"{_held(v)} error is {v['low']:.2%}–{v['high']:.2%} ({v['confidence']:.0%}), so the gap "
        f"may be {v['gap']:.2%}, within the {v['threshold']:.2%} threshold; a bigger "
        f"{_held(v)} set would tell"),
    "low_variance_uncertain": lambda v: (
        f"low variance is not certain: with {v['n_dev']} {_held(v)} examples the {_held(v)} "
        f"error may be as high as {v['high']:.2%} ({v['confidence']:.0%}); a bigger "
        f"{_held(v)} set would tell"),
    "dev_overfitted": "the test error is {gap:err} above the dev error: the dev set has been "
                      "overfitted by model selection, or dev and test are too small to agree; "
                      "get a bigger dev set",
    "few_examples": "only {n_train} training examples: more data is the first thing to try",
    "few_examples:biased": "only {n_train} training examples: once the fit is fixed, more "
                           "data is the first cure for the variance",
    "early_stopping_cost": "early stopping kept epoch {epoch}, where the train error is "
                           "{train_error:err}: early stopping couples bias and variance (it "
                           "stops fitting the training set to stop overfitting, so part of "
                           "that train error is the price of stopping early); to lower bias "
                           "without raising variance, train longer with L2 or dropout instead",
    "diverged": "training diverged: the errors are those of the weights kept before it, so "
                "they say nothing about bias or variance; fix the divergence first",
    "train_error_sampled": "the training error was measured on {rows:,} of the {total:,} "
                           "training rows (a seeded sample: its standard error is at most "
                           "0.05 points)",
    "regularized": "the network is regularized ({regularization}): too much regularization "
                   "also causes high bias; lower it before growing the network",
    # learning curves
    "curve_single_size": "a single size: a learning curve needs at least two",
    "curve_more_data": CHANGE + " and is still falling, {gap:.2%} above the train error: "
                       "more data should help (variance)",
    "curve_met": CHANGE + "; train and dev errors have met: more data will not help much (if "
                 "the error is too high, that is bias: a bigger network)",
    "curve_flat": CHANGE + "; the gap ({gap:.2%}) stays but the dev error no longer falls "
                  "with more data: regularize (L2, dropout) as well",
    "learning_curve": lambda v: f"learning curve: {say(v['reading'], v)}",
    # the recipe's decisions (deeprecipe.recipe.policy)
    "recipe_baseline": "a sound baseline: inputs standardized with the training set's "
                       "statistics, He initialization for ReLU, Adam, a modest network, early "
                       "stopping on the dev cost",
    **{f"recipe_{action}": _recipe_step(why) for action, why in RECIPE_WHY.items()},
    "recipe_more_data:sample": _recipe_step(
        "more data is the surest cure for variance, and the trials train on a sample of the "
        "training set: the best model trains on a larger one"),
    **{f"recipe_{action}:probe": _recipe_step(
        "the training error is at or below the yardstick, so its bias is not shown to be "
        f"avoidable; {doing} tests whether it is, judged on dev")
       for action, doing in (("bigger_network", "a bigger network"),
                             ("train_longer", "training longer"),
                             ("better_optimizer", "another optimizer setting"))},
    "recipe_final": "the chosen configuration trained on a sample of {parent_rows:,} rows; it "
                    "trains once more on all {n_train:,} training rows, for {epochs} "
                    "epoch(s): at least twice the examples its trial saw up to its best epoch",
    "recipe_done": lambda v: f"{_recipe_errors(v)}: " + (
        "" if v.get("reference") is None else "the best network reaches the yardstick with "
        "low variance; ") + "the recipe stops here; the test set measures the chosen model",
    "recipe_mismatch": lambda v: (
        f"{_recipe_errors(v)}: the data mismatch (dev − train-dev) is what is left, and a "
        "tune cannot make the training data more like the dev data (collect or synthesize "
        "such examples, then tune again)"),
    "recipe_exhausted": lambda v: (
        f"{_recipe_errors(v)}, but every step the recipe has for it was tried around the best "
        "model; what is left is outside this search (another architecture, more data)"),
    # the other suspects of a divergence (normalize_inputs, better_init, clip_gradients) are
    # outside the search, which always standardizes the inputs and initializes with He
    "recipe_diverged_stop": lambda v: (
        f"{_recipe_errors(v)} and every lower learning rate the search allows (down to "
        f"{v['lowest_rate']:g}) was tried around it without a better model: the learning rate "
        "could not make it converge. The search already standardizes the inputs with the "
        "training set's statistics and initializes with He, so suspect the data's scale "
        "(features or a target with extreme values that standardizing does not tame), the "
        "initialization (if the network is set up outside this search) or the loss (labels it "
        "does not expect); clipping the gradients keeps one large step from blowing up"),
    "recipe_next_best": lambda v: (
        f"every step of the recipe was tried around the best model, so it goes on around the "
        f"next best ({v['config']}, dev error "
        f"{show_error(v['model_dev_error'], v['regression'])}): {say(v['then'], v)}"),
    # "step": the next step's code (older records: "then", which a next-best step holds)
    "budget_spent": lambda v: (
        f"the budget of {v['budget']} trials is spent; the recipe's next step would have been "
        f"{v['action'].replace('_', ' ')}: {say(v.get('step', v.get('then')), v)}"),
    # why training ended (History.stop_reason)
    "stopped:patience": "early stopping ended training (the dev cost stopped improving)",
    "stopped:diverged": "training diverged (its cost grew by orders of magnitude or became "
                        "non-finite)",
    "stopped:max_epochs": "every epoch ran",
    "stopped:callback": "a callback stopped training",
    # a tune's test error (deeprecipe.recipe)
    "test_unbiased": "the dev set chose the model; the test error was measured once, at the "
                     "end, on the chosen model only, so it is an unbiased estimate of its error "
                     "on new data",
    "no_test_set": "no test set: the dev error chose the model, so it is an optimistic "
                   "estimate of its error on new data",
    # the gradient checker: what a failing block's gradient is (deeprecipe.gradcheck)
    "grad_missing": "the analytic gradient is zero: the gradient is missing",
    "grad_flipped": "analytic = -1 × numeric: the sign is flipped",
    "grad_doubled": "analytic = 2 × numeric: the gradient is doubled",
    "grad_halved": "analytic = ½ × numeric: the gradient is halved (a factor ½ too many?)",
    "grad_missing_m": "analytic = m × numeric (m = {m}): a missing 1/m",
    "grad_extra_m": "analytic = numeric / m (m = {m}): an extra 1/m",
    "grad_scale": "analytic = {c:.{digits}g} × numeric: a pure scale error",
    "grad_zero_numeric": "the numeric gradient is zero but the analytic is not",
    "grad_transposed": "analytic = numericᵀ: the gradient is transposed (W is square, so its "
                       "shape is right)",
    "grad_numeric_not_finite": "J(θ ± ε) is not finite for some perturbations (an "
                               "overflow?): the numeric gradient is undefined there",
    "grad_not_finite": "the analytic gradient has {count} non-finite value(s) ({value} at "
                       "{index})",
    "grad_shape": "the analytic gradient has shape {shape}; the parameter has shape {expected}",
    "grad_block": lambda v: f"{v['block']}: {say(v['then'], v)}",
    "grad_term": lambda v: f"the {v['term']} gradient is wrong: " + (
        "; ".join(say(f["code"], f["values"]) for f in v["findings"])
        or f"difference {v['difference']:.1e}"),
    # how the gradient checker checked (GradcheckReport.notes)
    "grad_rows": "J computed on {count:,} {part} rows",
    "grad_promoted": lambda v: "promoted to float64 for the check: " + ", ".join(
        f"{name} ({dtype})" for name, dtype in v["dtypes"].items()),
    "grad_promoted_copy": "promoted the {dtype} {what} to float64 for the check (on a copy; "
                          "your {what} is unchanged)",
    "grad_dropout:off": "dropout off (keep_prob = 1)",
    "grad_dropout:fixed": "dropout on with the same masks at every evaluation (dropout='fixed')",
    "grad_eval_mode": "module evaluated in eval mode: dropout off, batch norm on its running "
                      "statistics",
    "grad_frozen": lambda v: "not checked (requires_grad=False): " + ", ".join(v["blocks"]),
    "grad_eager": "fn could not be traced by jax.jit (Python control flow on values?): "
                  "evaluated eagerly, which is slower",
    "grad_kinks": lambda v: (
        f"{v['kinks']} measurement(s) crossed a kink (ReLU at 0, |w| at 0) and were "
        f"re-measured; {v['accepted']} at a kink, subgradient accepted ("
        + ("J held on θ's branches agrees" if v["held"] else
           "the analytic value lies between the one-sided derivatives") + ")"
        + (f"; {v['left_out']} left out of the verdict (a probe through a kink, or a value "
           "outside the one-sided derivatives, which several units at their kinks at once "
           "can make valid)" if v["left_out"] else "")),
    "grad_flat": "uninformative: every gradient measured, numeric and analytic, is zero, so "
                 "nothing was verified. help: J is flat here: check at another point (fresh "
                 "weights, other rows)",
    "grad_noise": _noise,
    "grad_cost_dtype": lambda v: f"J is computed in {v['dtype']} (" + {
        "cost": f"fn returns its cost as a {v['dtype']}",
        "term": f"fn returns a term's cost as a {v['dtype']}",
        "values": f"every cost fn returned is a {v['dtype']} number, and J took different "
                  "values"}[v["evidence"]] + f"): the noise floor uses {v['dtype']}'s rounding",
    "grad_torch_cost_dtype": "J came back as {dtype} although the parameters and inputs were "
                             "float64: a {dtype} tensor inside fn or loss= (a captured target "
                             "y?) lowers it, and the check can only see its rounding; make "
                             "that tensor float64 (.double())",
    "grad_precision:not_finite": "precision: your {dtypes} gradients are not all finite where "
                                 "the float64 ones are (an overflow in {dtypes}?)",
    "grad_precision:rounding": PRECISION + "; that is rounding, not a bug",
    "grad_precision:beyond": PRECISION + ": more than {dtypes} rounding explains (√ε ≈ "
                             "{root:.0e}); in {dtypes} fn loses precision (a cancellation?) or "
                             "computes something else, which this float64 check cannot see",
    "grad_precision:failed": "precision: fn could not run in its own dtypes to compare "
                             "({error})",
    # the same-distribution check (deeprecipe.data.compare: Comparison.verdict)
    "distribution:indistinguishable": "no difference detected",
    "distribution:slightly different": "slightly different distributions (detectable, but "
                                       "small)",
    "distribution:different": "DIFFERENT distributions",
    "distribution_help": "{a} and {b} should come from the same distribution (shuffle before "
                         "splitting; take dev and test from the data you care about).",
    "distribution_sample": lambda v: "on " + " and ".join(
        f"{used:,} of {size:,} {label} rows" for label, size, used
        in zip(v["labels"], v["sizes"], v["sample_sizes"], strict=True) if used < size),
    # what preparing the data noticed (deeprecipe.data, deeprecipe.workflow, the tune)
    "constant_features": lambda v: (
        f"Standardizer: {len(v['features'])} feature(s) have zero variance on the data it was "
        f"fit on: {', '.join(map(str, v['features'][:12]))}"
        + (f" and {len(v['features']) - 12} more" if len(v["features"]) > 12 else "")
        + "; their σ is set to 1 (centred, not scaled)."),
    "class_missing": lambda v: "split: " + "; ".join(
        f"{part} has no example of class {', '.join(map(repr, labels[:10]))}"
        + (f" and {len(labels) - 10} more" if len(labels) > 10 else "")
        for part, labels in v["missing"].items()) + (
        f" (the smallest class has {v['smallest']} example(s)). help: collect more examples "
        "of the rare classes, merge them, or use larger dev/test ratios; for a regression "
        "target pass stratify=False."),
    "two_sources": lambda v: (
        f"split: dev {v['dev']:,} and test {v['test']:,} from {v['name']} ("
        + ("its own sets" if v["sets"] else "the notes' sizes of its "
           f"{v['rows']:,} rows") + (f"; its other {v['joined']:,} join training" if
                                    v["joined"] else "")
        + f"); train-dev {v['train_dev']:,} held out of {v['first']}'s rows (their "
        "distribution: dev − train-dev is the data mismatch)"),
    "known_mismatch": "train vs dev: {verdict} (AUC {auc:.2f}); with two sources a "
                      "difference is expected (dev and test come from the data you care "
                      "about), and the check that must pass is dev vs test",
    "file_sets": lambda v: "split: the file's own sets kept (" + ", ".join(
        f"{name} {rows:,}" for name, rows in v["sets"]) + ")" + (
        f"; its {v['halved']} set halved into dev {v['dev']:,} and test {v['test']:,} "
        "(stratified for classes)" if v["halved"] else ""),
    "no_test_split": "no test set: the dev set is used to choose the model, so the dev error "
                     "is not an unbiased estimate of the error on new data (fine when you do "
                     "not need one).",
    "dropped_rows": lambda v: ("dropped 1 row" if v["count"] == 1 else
                               f"dropped {v['count']:,} rows") + " whose target is missing "
                              "(drop_missing_target)",
    "imputed": lambda v: (
        f"imputed {v['count']:,} missing value{'s' if v['count'] != 1 else ''} of "
        f"{v['column']!r} with " + (f"the training part's median, {v['value']:.6g}"
                                    if isinstance(v["value"], (int, float)) else
                                    f"a category of their own, {v['value']}")),
    "unseen_categories": lambda v: (
        f"{v['count']:,} value{'s' if v['count'] != 1 else ''} of {v['column']!r} outside "
        "the training part's categories (a new category, or missing where training had no "
        "missing value) set none of its one-hot inputs (all zeros)"),
    "compare_skipped": "{label}: same-distribution check skipped ({part} has {rows} rows; it "
                       "needs {needs})",
    # what loading a course file recognised (deeprecipe.data.course)
    "course_sets": lambda v: f"{v['file']}: " + ", ".join(
        f"{COURSE_SETS[name]} {x}/{y} ({size:,} examples)" for name, x, y, size in v["sets"]),
    "course_columns": lambda v: (
        f"{v['array']} is ({v['shape'][0]:,}, {v['shape'][1]:,}): one example per column (the "
        f"notes' (n_x, m)), read as its transpose, {v['shape'][1]:,} examples of "
        f"{v['shape'][0]:,} features"),
    "course_images": lambda v: (
        f"{v['array']} holds {v['shape'][0]:,} images of "
        f"{'×'.join(str(n) for n in v['shape'][1:])}; each image is one example, its "
        f"{math.prod(v['shape'][1:]):,} values the features"),
    # a folder of images (deeprecipe.data.images)
    "images_ignored": lambda v: (
        "ignored 1 file that is" if v["count"] == 1 else f"ignored {v['count']:,} files that "
        "are") + " not a JPEG or PNG image (.jpg, .jpeg, .png)",
    "images_resized": lambda v: (
        f"resized {v['count']:,} of {v['total']:,} images to {v['size']} (height x width"
        + (", image_size)" if v["given"] else
           f": the most common of their {v['sizes']} sizes; image_size chooses another)")
        + (f"; {v['stretched']:,} of another shape {'is' if v['stretched'] == 1 else 'are'} "
           "stretched" if v["stretched"] else "")),
    "images_skipped": lambda v: (
        f"skipped {v['count']:,} image file{'' if v['count'] == 1 else 's'} that could not "
        "be decoded: "
        + ", ".join(v["files"])
        + (f" and {v['count'] - len(v['files']):,} more" if v["count"] > len(v["files"])
           else "")),
    "images_cache": lambda v: (
        f"read {v['count']:,} decoded images from the cache {v['file']} (none decoded)"
        if v["hit"] else f"decoded {v['count']:,} images; cached in {v['file']} for the "
        "next run"),
    "images_cache_failed": "could not write the image cache in {folder} ({reason}): the next "
                           "run decodes the images again",
    "resumed": "resumed from the checkpoint after epoch {epoch}",
    "augmented": lambda v: ("every training batch augmented afresh: " + ", ".join(
        v["transforms"]) + (" (the defaults for these images)" if v["defaults"] else "")),
    "target_scaled:run": TARGET + "; the learning curves are in those units (the target's "
                         "variance is 1), the errors in the target's own units",
    "target_scaled:tune": TARGET + "; every error of this tune is a mean squared error in "
                          "those units (1: always predicting the mean), and the saved model "
                          "predicts the target itself",
    # a tune's recommendations and remarks (deeprecipe.recipe)
    "tune_curve": lambda v: f"learning curve of the best model: {say(v['reading'], v)}" + (
        "; get more training data if you can (a tune cannot collect it for you)"
        if v["more_data"] else ""),
    "tune_curve_failed": "the learning curve's trials failed: no reading",
    "tune_sample_curve": lambda v: "learning curve of the best model from its sample to the "
                                   f"larger one: {say(v['reading'], v)}",
    "tune_final_worse": "on all the training rows the chosen configuration's dev error is "
                        "{final:err}, above the {trial:err} of its trial on a sample: the "
                        "final training may need more epochs (its config says how many it "
                        "had)",
    # how many training rows a trial sees (deeprecipe.recipe.sample)
    "sample_all": "all {rows:,} training rows (trials train on a sample only above "
                  "{threshold:,})",
    "sample_first": "a seeded sample of {rows:,} of the {n_train:,} training rows, so that a "
                    "trial takes seconds (trials train on samples above {threshold:,} rows; "
                    "the sample grows up to {most:,} when variance is high)",
    "sample_grown": "a larger sample, {parent_rows:,} → {rows:,} of the {n_train:,} training "
                    "rows: the best model's variance was high, and more data cures variance",
    "sample_final": "all {n_train:,} training rows: the chosen configuration, trained on a "
                    "sample of {parent_rows:,} rows during the search, trained on all of them",
    "test_reused": "the test set of this folder was already used, on trial {trial}, before "
                   "this run chose another model: each look at the test set makes it a little "
                   "less unbiased",
    # the experiments (deeprecipe.experiments)
    "init_zeros": lambda v: (
        "zeros: all hidden units are identical after training ("
        + ", ".join(f"{name}: {distinct} distinct of {units}"
                    for name, (distinct, units) in v["units"].items())
        + f"); the cost stays at {v['final_cost']:.3f} (ln 2 = 0.693) and the train accuracy "
        f"at {v['train_accuracy']:.0%}: chance. Gradient flow: {v['flow']}."),
    "init_large": "random ×10: the first cost is {first_cost:,.0f}, {ratio:,.0f} times He's "
                  "{he_first_cost:.2f}; after training: train accuracy {train_accuracy:.0%}, "
                  "dev {dev_accuracy:.0%}.",
    "init_he": "He: train accuracy {train_accuracy:.0%}, dev {dev_accuracy:.0%}, final cost "
               "{final_cost:.3g}.",
    "dev_chooses": "the dev set chooses {label} (dev accuracy {dev_accuracy:.1%}); its test "
                   "accuracy, measured once on {n_test} unseen points: {test_accuracy:.1%}.",
    "unregularized_overfits": "none: train accuracy {train_accuracy:.1%}, dev {dev_accuracy:.1%}, "
                              "a gap of {gap:.1f} points: it memorized the noise (high variance).",
    "unregularized_fits": "none: train accuracy {train_accuracy:.1%}, dev {dev_accuracy:.1%}, "
                          "a gap of {gap:.1f} points: no clear overfitting at these settings "
                          "(train longer to see it).",
    "regularized_gap": lambda v: (
        f"{v['label']} ({v['setting']}): train {v['train_accuracy']:.1%}, dev "
        f"{v['dev_accuracy']:.1%}; the gap {'falls' if v['falls'] else 'does not fall'} from "
        f"{v['gap_from']:.1f} to {v['gap_to']:.1f} points, Σ‖W‖² from {v['norm_from']:,.0f} "
        f"to {v['norm_to']:,.0f}."),
}


class _Formatter(string.Formatter):
    """:meth:`str.format` with the specs ``err``, ``names`` and ``shares``."""

    def __init__(self, regression: bool) -> None:
        self.specs: dict[str, Callable[[Any], str]] = {
            "err": partial(show_error, regression=regression), "names": layer_names,
            "shares": _shares}

    def format_field(self, value: Any, format_spec: str) -> str:
        spec = self.specs.get(format_spec)
        return super().format_field(value, format_spec) if spec is None else spec(value)


def say(code: str, values: Mapping[str, Any] | None = None) -> str:
    """The sentence for ``code`` (a key of :data:`TEXTS`) filled with ``values``."""
    values = values or {}
    template = TEXTS[code]
    return template(values) if callable(template) else _Formatter(
        bool(values.get("regression"))).format(template, **values)


@dataclass(frozen=True)
class Finding:
    """A finding as data: ``code`` (a key of :data:`TEXTS`) and the ``values`` its sentence
    is made of; ``str()`` says it for people (:func:`say`)."""

    code: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in TEXTS:
            raise ValueError(f"{type(self).__name__}: code must be one of the findings' codes "
                             f"(deeprecipe.findings.TEXTS); received code={self.code!r}.")

    @property
    def text(self) -> str:
        return say(self.code, self.values)

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "values", "text"}``: the data and, for people, the sentence."""
        return {"code": self.code, "values": dict(self.values), "text": self.text}


@dataclass(frozen=True, init=False)
class Advice(Finding):
    """One step of the recipe: ``action`` (one of :data:`ACTIONS`) and the ``reason`` for
    people, the text of ``code`` (the action's own unless given, e.g. ``"better_init:layer"``)
    and ``values``."""

    action: str = ""

    def __init__(self, action: str, code: str = "", values: Mapping[str, Any] | None = None,
                 ) -> None:
        object.__setattr__(self, "action", choice("Advice", "action", action, ACTIONS))
        super().__init__(code or action, dict(values or {}))

    @property
    def reason(self) -> str:
        return self.text

    def __str__(self) -> str:
        return f"{self.action.replace('_', ' ')}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, **super().to_dict(), "reason": self.reason}


def jsonable(value: Any) -> Any:
    """``value`` in JSON types: what has a ``to_dict`` (a finding: ``{code, values, text}``)
    as that, other dataclasses field by field, NumPy numbers as Python numbers, tuples and
    sets as lists, non-finite floats as ``None``; anything else unknown (a path) as its
    ``str``."""
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable_fields(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    if isinstance(value, (np.ndarray, np.generic)):  # a NumPy scalar's tolist() is its item()
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def jsonable_fields(value: Any, *leave_out: str, **more: Any) -> dict[str, Any]:
    """The fields of the dataclass ``value`` but ``leave_out``, then ``more``, by name in
    JSON types (:func:`jsonable`): the ``to_dict`` of a record."""
    return jsonable({**{f.name: getattr(value, f.name) for f in fields(value)
                        if f.name not in leave_out}, **more})
