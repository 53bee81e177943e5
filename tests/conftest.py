"""Shared fixtures. Randomness comes from an explicit Generator; never ``np.random.seed``."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
