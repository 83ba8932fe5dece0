"""Turning what users pass to ``fit``/``evaluate``/``predict`` into batches.

Arrays (NumPy, lists, framework tensors; nested in lists, tuples and dicts) are sliced into
batches here; iterables (generators, ``torch.utils.data.DataLoader``, ``tf.data.Dataset``,
objects with ``__len__`` and ``__getitem__`` such as Keras's PyDataset) yield them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from katman.config import floatx
from katman.errors import ShapeError
from katman.layers.node import flatten, map_structure, pack_like


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from a batch given as ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"A batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)}."
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> tuple:
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def is_array_like(value: Any) -> bool:
    """Arrays, tensors and (nested) lists/tuples/dicts of them, as opposed to iterables of
    batches."""
    if value is None:
        return True
    if isinstance(value, dict):
        return all(is_array_like(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_array_like(v) or isinstance(v, (int, float)) for v in value)
    return hasattr(value, "shape") and hasattr(value, "dtype")


def to_numpy(value: Any) -> Any:
    """Array-likes as NumPy arrays (float64 becomes ``floatx``, as Keras does)."""

    def convert(leaf: Any) -> np.ndarray:
        if hasattr(leaf, "detach"):  # a torch tensor
            leaf = leaf.detach().cpu()
        if hasattr(leaf, "numpy") and not isinstance(leaf, np.ndarray):
            leaf = leaf.numpy()
        array = np.asarray(leaf)
        if array.dtype == np.float64:
            array = array.astype(floatx())
        return array

    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(v, (int, float, list)) for v in value)
    ):
        return convert(value)
    return map_structure(convert, value)


class ArrayBatches:
    """Batches sliced from in-memory arrays.

    Raises:
        katman.errors.ShapeError: x, y and sample_weight do not have the same number of
            samples.
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        batch_size: int | None = None,
        shuffle: bool | str = False,
        class_weight: dict[int, float] | None = None,
        steps: int | None = None,
        caller: str = "fit",
    ) -> None:
        self.x, self.y = to_numpy(x), to_numpy(y)
        self.sample_weight = to_numpy(sample_weight)
        lengths = {}
        for name, value in (("x", self.x), ("y", self.y), ("sample_weight", self.sample_weight)):
            for leaf in flatten(value):
                if leaf is not None:
                    if leaf.ndim == 0:
                        raise ShapeError(f"{caller}: `{name}` must have a batch dimension.")
                    lengths.setdefault(name, set()).add(int(leaf.shape[0]))
        sizes = {n: s for n, s in lengths.items()}
        all_sizes = set().union(*sizes.values()) if sizes else set()
        if len(all_sizes) > 1:
            described = ", ".join(
                f"{name} has {' and '.join(str(s) for s in sorted(found))} samples"
                for name, found in sizes.items()
            )
            raise ShapeError(
                f"{caller}: x, y and sample_weight must have the same number of samples; "
                f"{described}."
            )
        self.num_samples = all_sizes.pop() if all_sizes else 0
        if class_weight is not None:
            if self.y is None:
                raise ValueError(f"{caller}: class_weight needs y.")
            weights = _class_weights(self.y, class_weight)
            self.sample_weight = (
                weights if self.sample_weight is None else self.sample_weight * weights
            )
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        self.steps = steps
        # The shuffle order of an epoch derives from (seed, epoch), so a resumed run
        # (BackupAndRestore) replays the interrupted epoch's order exactly.
        self.seed = 0
        self.epoch = 0
        self.skip = 0

    @property
    def num_batches(self) -> int:
        batches = math.ceil(self.num_samples / self.batch_size)
        return min(batches, self.steps) if self.steps else batches

    def split(self, fraction: float) -> tuple[ArrayBatches, ArrayBatches]:
        """The first ``1 - fraction`` of the samples and the last ``fraction`` (not shuffled
        first, as Keras's ``validation_split``)."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"validation_split must be in (0, 1), got {fraction}.")
        cut = int(self.num_samples * (1.0 - fraction))
        if cut in (0, self.num_samples):
            raise ValueError(
                f"validation_split={fraction} leaves no samples on one side of the split "
                f"({self.num_samples} samples)."
            )

        def part(index: slice) -> ArrayBatches:
            return ArrayBatches(
                map_structure(lambda a: a[index], self.x),
                map_structure(lambda a: a[index], self.y),
                map_structure(lambda a: a[index], self.sample_weight),
                batch_size=self.batch_size,
                shuffle=self.shuffle,
            )

        return part(slice(0, cut)), part(slice(cut, None))

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch])

    def __iter__(self) -> Iterator[tuple]:
        order = np.arange(self.num_samples)
        if self.shuffle == "batch":
            starts = np.arange(0, self.num_samples, self.batch_size)
            self._rng().shuffle(starts)
            order = np.concatenate(
                [np.arange(s, min(s + self.batch_size, self.num_samples)) for s in starts]
            )
        elif self.shuffle:
            self._rng().shuffle(order)
        for batch in range(self.skip, self.num_batches):
            index = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            if not self.shuffle:
                index = slice(batch * self.batch_size, (batch + 1) * self.batch_size)

            def take(array: np.ndarray, index: Any = index) -> np.ndarray:
                return array[index]

            yield pack_x_y_sample_weight(
                map_structure(take, self.x),
                map_structure(take, self.y),
                map_structure(take, self.sample_weight),
            )


class IterableBatches:
    """Batches from an iterable: a generator (read once), or a re-iterable dataset (a new
    pass each epoch), or an indexable dataset (``__len__`` and ``__getitem__``)."""

    def __init__(
        self, data: Any, *, steps: int | None = None, class_weight: dict[int, float] | None = None
    ) -> None:
        self.data = data
        self.steps = steps
        self.class_weight = class_weight
        self._iterator: Iterator | None = None
        self.seed = 0
        self.epoch = 0
        self.skip = 0
        self._indexable = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        self._one_shot = iter(data) is data if not self._indexable else False

    @property
    def num_batches(self) -> int | None:
        if self.steps:
            return self.steps
        if self._indexable or (hasattr(self.data, "__len__") and not self._one_shot):
            try:
                return len(self.data)
            except TypeError:
                return None
        return None

    def __iter__(self) -> Iterator[tuple]:
        if self._indexable:
            source: Iterator = (self.data[i] for i in range(self.skip, len(self.data)))
        elif self._one_shot:
            source = self.data
        else:
            source = iter(self.data)
        skip = 0 if self._indexable else self.skip
        for count, batch in enumerate(source, start=self.skip if self._indexable else 0):
            if self.steps and count >= self.steps:
                break
            if count < skip:
                continue  # batches a resumed run has already trained on
            x, y, sample_weight = unpack_x_y_sample_weight(batch)
            x, y, sample_weight = to_numpy(x), to_numpy(y), to_numpy(sample_weight)
            if self.class_weight is not None and y is not None:
                weights = _class_weights(y, self.class_weight)
                sample_weight = weights if sample_weight is None else sample_weight * weights
            yield pack_x_y_sample_weight(x, y, sample_weight)
        if hasattr(self.data, "on_epoch_end"):
            self.data.on_epoch_end()


def make_batches(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None = None,
    shuffle: bool | str = False,
    class_weight: dict | None = None,
    steps: int | None = None,
    caller: str = "fit",
) -> ArrayBatches | IterableBatches:
    """The batch source for what the user passed."""
    if is_array_like(x):
        return ArrayBatches(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            class_weight=class_weight,
            steps=steps,
            caller=caller,
        )
    if y is not None or sample_weight is not None:
        raise ValueError(
            f"{caller}: when x is a dataset or generator ({type(x).__name__}), it yields the "
            "targets too: do not pass y or sample_weight."
        )
    if not hasattr(x, "__iter__") and not hasattr(x, "__getitem__"):
        raise TypeError(
            f"{caller}: x must be arrays (NumPy, tensors, or lists/dicts of them) or an "
            f"iterable of batches; got {type(x).__name__}."
        )
    return IterableBatches(x, steps=steps, class_weight=class_weight)


def _class_weights(y: Any, class_weight: dict[int, float]) -> np.ndarray:
    labels = flatten(y)
    if len(labels) != 1:
        raise ValueError("class_weight applies to models with a single output.")
    labels = labels[0]
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = np.argmax(labels, axis=-1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0].astype(np.int64)
    unknown = set(np.unique(labels).tolist()) - set(int(k) for k in class_weight)
    if unknown:
        raise ValueError(
            f"class_weight has no weight for class(es) {sorted(unknown)}; it covers "
            f"{sorted(int(k) for k in class_weight)}."
        )
    table = {int(k): float(v) for k, v in class_weight.items()}
    return np.array([table[int(c)] for c in labels], dtype=floatx())


__all__ = [
    "ArrayBatches",
    "IterableBatches",
    "make_batches",
    "pack_like",
    "pack_x_y_sample_weight",
    "unpack_x_y_sample_weight",
]
