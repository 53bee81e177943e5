"""``Advice``: one step of the basic recipe, readable by people and by the automated recipe.

Both the bias/variance diagnosis (:mod:`deeprecipe.diagnostics`) and the fit loop (when
training diverges) give advice, so it lives below both of them.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIONS = (
    "bigger_network",
    "train_longer",
    "better_optimizer",
    "other_architecture",
    "more_data",
    "augment",
    "regularize_l2",
    "dropout",
    "early_stopping",
    "lower_learning_rate",
    "better_init",
    "clip_gradients",
    "normalize_inputs",
    "stop",
)


@dataclass(frozen=True)
class Advice:
    """One step of the recipe: ``action`` (one of :data:`ACTIONS`, a fixed name the
    automated recipe can act on) and ``reason`` (for people)."""

    action: str
    reason: str

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(
                f"Advice: action must be one of {', '.join(map(repr, ACTIONS))}; received "
                f"action={self.action!r}."
            )

    def __str__(self) -> str:
        return f"{self.action.replace('_', ' ')}: {self.reason}"
