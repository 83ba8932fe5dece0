"""Merging layers: combine a list of tensors elementwise (Add, Subtract, Multiply, Average,
Maximum, Minimum) or join them along an axis (Concatenate)."""

from __future__ import annotations

import functools
from typing import Any

from katman import ops
from katman.errors import ShapeError
from katman.layers.layer import Layer
from katman.plugins.layers.core import layer_label

__all__ = ["Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract"]

Shape = tuple[int | None, ...]


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(d is None or isinstance(d, int) for d in value)


class _Merge(Layer):
    """Elementwise merges: inputs of the same batch size whose other axes broadcast; an input
    of lower rank gets axes of size 1 inserted after its batch axis."""

    # The number of inputs a subclass takes: at least 2, or exactly ``arity`` if set.
    arity: int | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def _shapes(self, input_shape: Any) -> list[Shape]:
        """The inputs' shapes, checked to be a list of at least two (or ``arity``)."""
        if not isinstance(input_shape, (list, tuple)) or not all(_is_shape(s) for s in input_shape):
            raise ShapeError(
                f"{layer_label(self)} must be called on a list of tensors; got a single input "
                f"of shape {tuple(input_shape) if _is_shape(input_shape) else input_shape}."
            )
        shapes = [tuple(s) for s in input_shape]
        if self.arity is not None and len(shapes) != self.arity:
            raise ShapeError(
                f"{layer_label(self)} takes exactly {self.arity} inputs; got {len(shapes)} "
                f"(shapes {shapes})."
            )
        if len(shapes) < 2:
            raise ShapeError(
                f"{layer_label(self)} takes a list of at least 2 inputs; got {len(shapes)} "
                f"(shapes {shapes})."
            )
        return shapes

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        shapes = self._shapes(input_shape)
        batches = {s[0] for s in shapes if s and s[0] is not None}
        if len(batches) > 1 or any(not s for s in shapes):
            raise ShapeError(
                f"{layer_label(self)}: the inputs must have the same batch size (axis 0); "
                f"got shapes {shapes}."
            )
        output = list(shapes[0][1:])
        for shape in shapes[1:]:
            output = self._broadcast(output, list(shape[1:]), shapes)
        return (batches.pop() if batches else None, *output)

    def _broadcast(self, first: list, second: list, shapes: list[Shape]) -> list:
        """Two shapes (without batch axes) broadcast; the shorter one is padded on the left."""
        if len(first) < len(second):
            first, second = second, first
        second = [1] * (len(first) - len(second)) + second
        result = []
        for a, b in zip(first, second, strict=True):
            if a is None or b is None:
                result.append(b if a == 1 else a if b == 1 else None)
            elif a == 1 or b == 1 or a == b:
                result.append(b if a == 1 else a)
            else:
                raise ShapeError(
                    f"{layer_label(self)}: the inputs' shapes do not broadcast together: {shapes}."
                )
        return result

    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, (list, tuple)):
            raise ShapeError(
                f"{layer_label(self)} must be called on a list of tensors; got a single input "
                f"of shape {tuple(getattr(inputs, 'shape', ()))}."
            )
        shapes = [tuple(x.shape) for x in inputs]
        # Inputs of one shape (the usual case, at every step) need no check beyond their count.
        equal = len(shapes) >= 2 and shapes[0] and shapes.count(shapes[0]) == len(shapes)
        if not equal or self.arity not in (None, len(shapes)):
            self.compute_output_shape(shapes)
        ranks = [len(shape) for shape in shapes]
        top = max(ranks)
        if min(ranks) != top:  # as Keras: new axes of size 1 right after the batch axis
            inputs = [
                ops.reshape(x, (-1, *(1,) * (top - len(x.shape)), *tuple(x.shape)[1:]))
                if len(x.shape) < top
                else x
                for x in inputs
            ]
        return self._merge(list(inputs))

    def _merge(self, inputs: list[Any]) -> Any:
        raise NotImplementedError

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The union (logical or) of the inputs' masks; None if any input has none."""
        if previous_mask is None or not isinstance(previous_mask, (list, tuple)):
            return None
        if any(m is None for m in previous_mask):
            return None
        return functools.reduce(ops.logical_or, previous_mask)


class Add(_Merge):
    """The elementwise sum of a list of tensors.

    Example:
        >>> import katman
        >>> a, b = katman.ops.ones((2, 3)), katman.ops.ones((2, 3))
        >>> katman.ops.convert_to_numpy(katman.layers.Add()([a, b]))[0].tolist()
        [2.0, 2.0, 2.0]
    """

    def _merge(self, inputs: list[Any]) -> Any:
        return functools.reduce(ops.add, inputs)


class Subtract(_Merge):
    """The elementwise difference ``inputs[0] - inputs[1]`` of exactly two tensors."""

    arity = 2

    def _merge(self, inputs: list[Any]) -> Any:
        return ops.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """The elementwise product of a list of tensors."""

    def _merge(self, inputs: list[Any]) -> Any:
        return functools.reduce(ops.multiply, inputs)


class Average(_Merge):
    """The elementwise mean of a list of tensors."""

    def _merge(self, inputs: list[Any]) -> Any:
        return ops.divide(functools.reduce(ops.add, inputs), len(inputs))


class Maximum(_Merge):
    """The elementwise maximum of a list of tensors."""

    def _merge(self, inputs: list[Any]) -> Any:
        return functools.reduce(ops.maximum, inputs)


class Minimum(_Merge):
    """The elementwise minimum of a list of tensors."""

    def _merge(self, inputs: list[Any]) -> Any:
        return functools.reduce(ops.minimum, inputs)


class Concatenate(Layer):
    """Joins a list of tensors along ``axis``; their other axes must agree.

    Args:
        axis: the axis to join along (default the last).
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> a, b = katman.ops.ones((2, 3)), katman.ops.zeros((2, 4))
        >>> tuple(katman.layers.Concatenate()([a, b]).shape)
        (2, 7)
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Concatenate: `axis` must be an int. Received: axis={axis!r}")
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> Shape:
        if not isinstance(input_shape, (list, tuple)) or not all(_is_shape(s) for s in input_shape):
            raise ShapeError(
                f"{layer_label(self)} must be called on a list of tensors; got a single input "
                f"of shape {tuple(input_shape) if _is_shape(input_shape) else input_shape}."
            )
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2:
            raise ShapeError(
                f"{layer_label(self)} takes a list of at least 2 inputs; got {len(shapes)} "
                f"(shapes {shapes})."
            )
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ShapeError(
                f"{layer_label(self)}: the inputs must have the same rank, with axis "
                f"{self.axis} in range; got shapes {shapes}."
            )
        axis = self.axis % rank
        output: list[int | None] = []
        for i in range(rank):
            sizes = [s[i] for s in shapes]
            if i == axis:
                output.append(None if None in sizes else sum(sizes))
                continue
            known = {d for d in sizes if d is not None}
            if len(known) > 1:
                raise ShapeError(
                    f"{layer_label(self)}: the inputs must match on every axis but the "
                    f"concatenation axis ({self.axis}); got shapes {shapes}."
                )
            output.append(known.pop() if known else None)
        return tuple(output)

    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, (list, tuple)):
            raise ShapeError(
                f"{layer_label(self)} must be called on a list of tensors; got a single input "
                f"of shape {tuple(getattr(inputs, 'shape', ()))}."
            )
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """Where any input's mask is set, after joining the masks as the inputs are joined
        (missing masks count as all set)."""
        if not isinstance(previous_mask, (list, tuple)) or all(m is None for m in previous_mask):
            return None
        masks = []
        for x, mask in zip(inputs, previous_mask, strict=True):
            if mask is None:
                masks.append(ops.ones_like(x, dtype="bool"))
            elif len(mask.shape) < len(x.shape):
                masks.append(ops.broadcast_to(ops.expand_dims(mask, -1), tuple(x.shape)))
            else:
                masks.append(mask)
        return ops.any(ops.concatenate(masks, axis=self.axis), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}
