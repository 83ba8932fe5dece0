"""Pooling layers: max and average pooling over windows (1D, 2D, 3D), and global pooling
over all spatial positions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman import ops
from katman.errors import ShapeError
from katman.layers.layer import InputSpec, Layer
from katman.plugins.layers.core import (
    default_name,
    layer_label,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
]


def pool_output_length(size: int | None, pool: int, stride: int, padding: str) -> int | None:
    """The length of a pooling's output along one axis (None if ``size`` is)."""
    if size is None:
        return None
    if padding == "valid":
        return (size - pool) // stride + 1
    return -(-size // stride)


class _Pooling(Layer):
    """Windowed pooling; subclasses fix ``rank`` and ``mode`` ("max" or "average")."""

    rank = 2
    mode = "max"

    def __init__(
        self,
        pool_size: int | Sequence[int] = 2,
        strides: int | Sequence[int] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=default_name(self, name), **kwargs)
        owner = type(self).__name__
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size", owner)
        strides = self.pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, self.rank, "strides", owner)
        self.padding = standardize_padding(padding, owner)
        self.data_format = standardize_data_format(data_format, owner)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        self.input_spec.check(self, input_shape)
        self.compute_output_shape(input_shape)  # raises for inputs smaller than the window
        self.built = True

    def call(self, inputs: Any) -> Any:
        pool = ops.max_pool if self.mode == "max" else ops.average_pool
        return pool(
            inputs,
            pool_size=self.pool_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
        )

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(input_shape)
        self.input_spec.check(self, input_shape)
        last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if last else input_shape[2:]
        lengths = [
            pool_output_length(size, p, s, self.padding)
            for size, p, s in zip(spatial, self.pool_size, self.strides, strict=True)
        ]
        if any(length is not None and length <= 0 for length in lengths):
            raise ShapeError(
                f"{layer_label(self)}: an input of shape {input_shape} is smaller than "
                f"pool_size={self.pool_size} (padding={self.padding!r}): the output's spatial "
                f"shape would be {tuple(lengths)}."
            )
        if last:
            return (input_shape[0], *lengths, input_shape[-1])
        return (input_shape[0], input_shape[1], *lengths)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling):
    """Max pooling over windows of a sequence ``(batch, steps, channels)``. Takes
    ``MaxPooling2D``'s arguments, one size each."""

    rank = 1
    mode = "max"


class MaxPooling2D(_Pooling):
    """Max pooling: the largest value of each ``pool_size`` window of an image.

    Args:
        pool_size: the window's size (an int or one per spatial axis).
        strides: the step between windows; None means ``pool_size``.
        padding: ``"valid"`` (windows fit inside) or ``"same"`` (output size ``ceil(size /
            stride)``; padding never wins the max).
        data_format: ``"channels_last"`` or ``"channels_first"``; default the configured
            image format.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> tuple(katman.layers.MaxPooling2D()(katman.ops.ones((1, 4, 6, 3))).shape)
        (1, 2, 3, 3)
    """

    rank = 2
    mode = "max"


class MaxPooling3D(_Pooling):
    """Max pooling over windows of a volume ``(batch, d1, d2, d3, channels)``. Takes
    ``MaxPooling2D``'s arguments."""

    rank = 3
    mode = "max"


class AveragePooling1D(_Pooling):
    """Average pooling over windows of a sequence. Takes ``AveragePooling2D``'s arguments."""

    rank = 1
    mode = "average"


class AveragePooling2D(_Pooling):
    """Average pooling: the mean of each ``pool_size`` window of an image; with ``"same"``
    padding, border windows average only the values inside the image.

    Args:
        pool_size: the window's size (an int or one per spatial axis).
        strides: the step between windows; None means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``; default the configured
            image format.
        **kwargs: base layer arguments.
    """

    rank = 2
    mode = "average"


class AveragePooling3D(_Pooling):
    """Average pooling over windows of a volume. Takes ``AveragePooling2D``'s arguments."""

    rank = 3
    mode = "average"


class _GlobalPooling(Layer):
    """Pooling over every spatial position; subclasses fix ``rank`` and ``mode``."""

    rank = 2
    mode = "max"

    def __init__(
        self,
        data_format: str | None = None,
        keepdims: bool = False,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=default_name(self, name), **kwargs)
        self.data_format = standardize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    @property
    def _spatial_axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def call(self, inputs: Any) -> Any:
        reduce = ops.max if self.mode == "max" else ops.mean
        return reduce(inputs, axis=self._spatial_axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(input_shape)
        self.input_spec.check(self, input_shape)
        spatial = self._spatial_axes
        if self.keepdims:
            return tuple(1 if i in spatial else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in spatial)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """The largest value over the steps of ``(batch, steps, channels)``: ``(batch,
    channels)`` (``(batch, 1, channels)`` with ``keepdims``). Takes
    ``GlobalMaxPooling2D``'s arguments."""

    rank = 1
    mode = "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """The largest value over all spatial positions of an image: ``(batch, h, w, c)``
    becomes ``(batch, c)``.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"``; default the configured
            image format.
        keepdims: keep the spatial axes, with size 1.
        **kwargs: base layer arguments.
    """

    rank = 2
    mode = "max"


class GlobalMaxPooling3D(_GlobalPooling):
    """The largest value over all positions of a volume. Takes ``GlobalMaxPooling2D``'s
    arguments."""

    rank = 3
    mode = "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps of ``(batch, steps, channels)``; with a ``mask`` of shape
    ``(batch, steps)``, the mean of the unmasked steps. Takes ``GlobalAveragePooling2D``'s
    arguments."""

    rank = 1
    mode = "average"

    def __init__(
        self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            return super().call(inputs)
        channels_last = self.data_format == "channels_last"
        keep = ops.expand_dims(ops.cast(mask, "bool"), 2 if channels_last else 1)
        axis = 1 if channels_last else 2
        total = ops.sum(ops.where(keep, inputs, 0), axis=axis, keepdims=self.keepdims)
        count = ops.sum(ops.cast(keep, inputs.dtype), axis=axis, keepdims=self.keepdims)
        return ops.divide(total, count)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over all spatial positions of an image: ``(batch, h, w, c)`` becomes
    ``(batch, c)``.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"``; default the configured
            image format.
        keepdims: keep the spatial axes, with size 1.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> tuple(katman.layers.GlobalAveragePooling2D()(katman.ops.ones((2, 4, 4, 3))).shape)
        (2, 3)
    """

    rank = 2
    mode = "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """The mean over all positions of a volume. Takes ``GlobalAveragePooling2D``'s
    arguments."""

    rank = 3
    mode = "average"
