"""Utilities: the progress bar, and helpers shared by the training loop and callbacks."""

from __future__ import annotations

from katman.utils.progbar import Progbar
from katman.utils.random_seed import set_random_seed

__all__ = ["Progbar", "set_random_seed"]
