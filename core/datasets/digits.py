"""The UCI 8x8 handwritten digits: 1,797 grey images of the digits 0 to 9, bundled with katman.

The data is the test set (``optdigits.tes``) of E. Alpaydin and C. Kaynak's "Optical Recognition
of Handwritten Digits" (UCI Machine Learning Repository, 1998, https://doi.org/10.24432/C50P49),
licensed CC BY 4.0. ``data/README.md`` next to this module gives the full attribution.

Example:
    >>> from katman.datasets import digits
    >>> (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.2, seed=113)
    >>> x_train.shape, y_train.shape, x_test.shape, y_test.shape
    ((1438, 8, 8), (1438,), (359, 8, 8), (359,))
    >>> int(x_train.max()), sorted(set(y_test.tolist())) == list(range(10))
    (16, True)
"""

from __future__ import annotations

import hashlib
import io
import math
import numbers
import zipfile
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["DESCRIPTION", "load_data"]

DESCRIPTION = """\
UCI ML "Optical Recognition of Handwritten Digits", test set (optdigits.tes).

Source: E. Alpaydin and C. Kaynak, Bogazici University, 1998. UCI Machine Learning
Repository, https://doi.org/10.24432/C50P49. Licence: CC BY 4.0.

Samples: 1,797 images written by 13 people, in 10 classes (the digits 0 to 9):
    class:   0    1    2    3    4    5    6    7    8    9
    count: 178  182  177  183  181  182  181  179  174  180

Images: 8x8 uint8 arrays. Each pixel counts the "on" pixels of one 4x4 block of a
normalised 32x32 binary bitmap, so values are integers from 0 to 16. Labels: uint8, 0 to 9.
"""

NUM_SAMPLES = 1797
NUM_CLASSES = 10
DATA_FILE = "digits.npz"

# SHA-256 of images.tobytes() followed by labels.tobytes(): it checks the array contents, not
# the zip container (whose bytes carry timestamps), so a rebuilt file with the same data passes.
_CONTENT_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
_REINSTALL_HINT = "reinstall katman (pip install --force-reinstall katman) to restore it"


def _data_file() -> Traversable:
    """The bundled data file, as a package resource (works from a wheel, zip or checkout)."""
    return resources.files("katman.datasets") / "data" / DATA_FILE


def _read_arrays(resource: Traversable) -> tuple[np.ndarray, np.ndarray]:
    """Read and verify ``(images, labels)`` from the data file ``resource``."""
    try:
        blob = resource.read_bytes()
    except OSError as err:
        raise FileNotFoundError(
            f"katman.datasets.digits: cannot read the data file {resource} ({err}); "
            f"{_REINSTALL_HINT}."
        ) from err
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"katman.datasets.digits: the data file {resource} is corrupted "
            f"({type(err).__name__}: {err}); {_REINSTALL_HINT}."
        ) from err
    expected = {"images": ((NUM_SAMPLES, 8, 8), np.uint8), "labels": ((NUM_SAMPLES,), np.uint8)}
    for name, array in (("images", images), ("labels", labels)):
        shape, dtype = expected[name]
        if array.shape != shape or array.dtype != dtype:
            raise ValueError(
                f"katman.datasets.digits: the data file {resource} is corrupted: {name!r} has "
                f"shape {array.shape} and dtype {array.dtype}, expected {shape} and "
                f"{np.dtype(dtype)}; {_REINSTALL_HINT}."
            )
    digest = hashlib.sha256(images.tobytes())
    digest.update(labels.tobytes())
    if digest.hexdigest() != _CONTENT_SHA256:
        raise ValueError(
            f"katman.datasets.digits: the data file {resource} is corrupted: its contents' "
            f"SHA-256 is {digest.hexdigest()}, expected {_CONTENT_SHA256}; {_REINSTALL_HINT}."
        )
    return images, labels


def _check_arguments(test_split: float, seed: int) -> None:
    if (
        isinstance(test_split, bool)
        or not isinstance(test_split, numbers.Real)
        or not math.isfinite(test_split)
        or not 0 < test_split < 1
    ):
        raise ValueError(
            "katman.datasets.digits.load_data: test_split must be a number strictly between 0 "
            f"and 1 (the fraction of samples put in the test split), received {test_split!r}."
        )
    n_test = _rounded(NUM_SAMPLES * float(test_split))
    if not 0 < n_test < NUM_SAMPLES:
        split = "test" if n_test == 0 else "training"
        raise ValueError(
            f"katman.datasets.digits.load_data: test_split={test_split!r} leaves the {split} "
            f"split empty ({NUM_SAMPLES} samples); use a value between {1 / NUM_SAMPLES:.5f} "
            f"and {1 - 1 / NUM_SAMPLES:.5f}."
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            "katman.datasets.digits.load_data: seed must be a non-negative integer, "
            f"received {seed!r}."
        )


def _rounded(value: float) -> int:
    """``value`` rounded half up (Python's ``round`` rounds half to even)."""
    return math.floor(value + 0.5)


def _test_counts(class_counts: np.ndarray, test_split: float) -> np.ndarray:
    """Test samples per class: proportional, summing to ``round(n * test_split)``.

    Each class gets ``floor(count * test_split)``; the samples left over go to the classes with
    the largest fractional parts (ties to the lower class), so no class is off by one or more.
    """
    exact = class_counts * test_split
    counts = np.floor(exact).astype(np.int64)
    short = _rounded(float(class_counts.sum()) * test_split) - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def load_data(
    test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the UCI 8x8 handwritten digits, split into shuffled training and test sets.

    The split is stratified: each class puts ``test_split`` of its samples (rounded, and
    summing to ``round(1797 * test_split)``) in the test set, so both sets keep the classes'
    proportions. It is deterministic: the same ``seed`` always gives the same split and order.
    Each call returns new arrays. See ``DESCRIPTION`` for the data's source and licence.

    Args:
        test_split: fraction of the samples to put in the test set, strictly between 0 and 1.
        seed: non-negative integer seeding the NumPy generator that shuffles and splits.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` uint8 arrays of shape ``(n, 8, 8)``
        with values 0 to 16, ``y`` uint8 arrays of shape ``(n,)`` with labels 0 to 9.

    Raises:
        ValueError: for a bad ``test_split`` or ``seed``, or a corrupted data file.
        FileNotFoundError: when the bundled data file is missing.

    Example:
        >>> from katman.datasets import digits
        >>> (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.5, seed=0)
        >>> len(x_train), len(x_test), x_test.dtype.name
        (898, 899, 'uint8')
    """
    _check_arguments(test_split, seed)
    images, labels = _read_arrays(_data_file())
    order = np.random.default_rng(int(seed)).permutation(NUM_SAMPLES)
    shuffled = labels[order]
    # The first k_c samples of class c in shuffled order go to the test set.
    rank_in_class = np.empty(NUM_SAMPLES, dtype=np.int64)
    for c in range(NUM_CLASSES):
        positions = np.flatnonzero(shuffled == c)
        rank_in_class[positions] = np.arange(positions.size)
    class_counts = np.bincount(labels, minlength=NUM_CLASSES)
    is_test = rank_in_class < _test_counts(class_counts, float(test_split))[shuffled]
    train, test = order[~is_test], order[is_test]
    return (images[train], labels[train]), (images[test], labels[test])
