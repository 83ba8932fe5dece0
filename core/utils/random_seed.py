"""``set_random_seed``: one call that makes a program's random numbers reproducible."""

from __future__ import annotations

import random

import numpy as np


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and katman's global seed generator
    (what ``seed=None`` draws from: initializers, dropout, shuffling).

    Raises:
        ValueError: ``seed`` is not a non-negative int.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed: seed must be a non-negative int, got {seed!r}.")
    from katman.backend import get_backend

    get_backend()  # importing a framework may draw from NumPy's generator (jax does): first
    random.seed(seed)
    np.random.seed(seed % 2**32)
    from katman import random as katman_random

    katman_random.reset_global_seed_generator(seed)
