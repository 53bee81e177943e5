"""Training callbacks: hooks the fit loop calls, nothing more.

A callback may define any of

``on_train_begin(model)``
    before the first epoch;
``on_epoch_end(epoch, logs) -> bool``
    after each epoch (``epoch`` counts from 0; ``logs`` holds that epoch's History entries);
    return ``True`` to stop training;
``on_train_end(model, history)``
    after the last epoch, however training ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Sequential
    from .training import History


class Callback:
    """Base class with hooks that do nothing."""

    def on_train_begin(self, model: Sequential) -> None:
        return None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        return False

    def on_train_end(self, model: Sequential, history: History) -> None:
        return None
