"""Save a model of a few megabytes to one path again and again, each time with other
weights, until killed (tests/test_atomic_save.py kills it with SIGKILL).

Usage::

    python tests/scripts/atomic_saver.py PATH FIRST_VERSION

Version ``v`` of the model has every weight equal to ``v``. Before each save the script
prints ``start v``, after it ``done v`` (flushed), so the test knows which versions the file
may hold when the process dies: the last one done, or the one being saved.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import katman
from katman import layers

UNITS = 1024  # two 1024x1024 layers: about 2.1 M float32 parameters, 8.4 MB
MAX_SAVES = 2000  # stop by itself if nobody kills it
MAX_SECONDS = 120.0


def model() -> katman.Model:
    return katman.Sequential(
        [katman.Input(shape=(UNITS,)), layers.Dense(UNITS), layers.Dense(UNITS)]
    )


def main(path: str, first: int) -> None:
    network = model()
    shapes = [(tuple(w.shape), w.dtype) for w in network.weights]
    began = time.monotonic()
    for version in range(first, first + MAX_SAVES):
        network.set_weights([np.full(shape, version, dtype) for shape, dtype in shapes])
        print(f"start {version}", flush=True)
        network.save(path)
        print(f"done {version}", flush=True)
        if time.monotonic() - began > MAX_SECONDS:
            break


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
