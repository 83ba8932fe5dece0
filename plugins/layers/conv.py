"""Convolution layers: Conv1D, Conv2D, Conv3D and the transposed Conv1DTranspose,
Conv2DTranspose, Conv3DTranspose (Keras's arguments, weights and configs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman import constraints, initializers, ops, regularizers
from katman.errors import ShapeError
from katman.layers.layer import InputSpec, Layer
from katman.plugins.fused import biased_conv
from katman.plugins.layers.core import (
    as_compute,
    default_name,
    get_activation,
    layer_label,
    serialize_activation,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)

__all__ = [
    "Conv1D",
    "Conv1DTranspose",
    "Conv2D",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
]


def conv_output_length(
    size: int | None, kernel: int, stride: int, padding: str, dilation: int
) -> int | None:
    """The length of a convolution's output along one axis (None if ``size`` is)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1
    return -(-size // stride)  # "same" and "causal"


def conv_transpose_output_length(
    size: int | None,
    kernel: int,
    stride: int,
    padding: str,
    output_padding: int | None,
    dilation: int,
) -> int | None:
    """The length of a transposed convolution's output along one axis (Keras's rule)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + span % 2 + output_padding


def _positive_int(owner: str, argument: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: `{argument}` must be a positive int. Received: {value!r}")
    return value


class _BaseConv(Layer):
    """What every convolution shares: arguments, kernel and bias, input checks."""

    rank = 2
    transpose = False

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        *,
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        owner = type(self).__name__
        kwargs["name"] = default_name(self, kwargs.get("name"))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        n = self.rank
        self.filters = _positive_int(owner, "filters", filters)
        self.kernel_size = standardize_tuple(kernel_size, n, "kernel_size", owner)
        self.strides = standardize_tuple(strides, n, "strides", owner)
        self.dilation_rate = standardize_tuple(dilation_rate, n, "dilation_rate", owner)
        causal = n == 1 and not self.transpose
        self.padding = standardize_padding(padding, owner, allow_causal=causal)
        self.data_format = standardize_data_format(data_format, owner)
        self.activation = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}: `strides` > 1 cannot be combined with `dilation_rate` > 1. "
                f"Received: strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.input_spec = InputSpec(ndim=n + 2)

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        raise NotImplementedError

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        InputSpec(ndim=self.rank + 2).check(self, input_shape)
        axis = self._channel_axis
        channels = input_shape[axis]
        if channels is None:
            raise ShapeError(
                f"{layer_label(self)}: the channel axis ({axis}) of the input must be known "
                f"to build the kernel; got an input of shape {input_shape}."
            )
        kernel_shape = self._kernel_shape(channels)
        self.compute_output_shape(input_shape)  # raises for inputs too small
        self.kernel = self.add_weight(
            shape=kernel_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={axis: channels})
        self.built = True

    def _convolve(self, inputs: Any, kernel: Any) -> Any:
        raise NotImplementedError

    def _convolve_with_bias(self, inputs: Any, kernel: Any, bias: Any) -> Any:
        """The convolution plus ``bias`` (or None); a subclass with a fused form overrides it."""
        outputs = self._convolve(inputs, kernel)
        if bias is None:
            return outputs
        if self.data_format == "channels_first":
            bias = ops.reshape(bias, (1, self.filters) + (1,) * self.rank)
        return ops.add(outputs, bias)

    def call(self, inputs: Any) -> Any:
        dtype = self.compute_dtype
        bias = None if self.bias is None else as_compute(self.bias, dtype)
        outputs = self._convolve_with_bias(inputs, as_compute(self.kernel, dtype), bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def _spatial_lengths(self, spatial: Sequence[int | None]) -> list[int | None]:
        raise NotImplementedError

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ShapeError(
                f"{layer_label(self)} expects inputs of rank {self.rank + 2} (batch, "
                f"{self.rank} spatial axes, channels); got shape {input_shape}."
            )
        last = self.data_format == "channels_last"
        spatial = input_shape[1:-1] if last else input_shape[2:]
        lengths = self._spatial_lengths(spatial)
        if any(length is not None and length <= 0 for length in lengths):
            raise ShapeError(
                f"{layer_label(self)}: an input of shape {input_shape} is too small for "
                f"kernel_size={self.kernel_size}, strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}, padding={self.padding!r}: the "
                f"output's spatial shape would be {tuple(lengths)}."
            )
        if last:
            return (input_shape[0], *lengths, self.filters)
        return (input_shape[0], self.filters, *lengths)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": serialize_activation(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class _Conv(_BaseConv):
    """A (grouped) convolution: the kernel is ``(*kernel_size, channels // groups,
    filters)``."""

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        owner = type(self).__name__
        self.groups = _positive_int(owner, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(
                f"{owner}: `filters` must be divisible by `groups`. Received: "
                f"filters={self.filters}, groups={self.groups}"
            )

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        if channels % self.groups:
            raise ShapeError(
                f"{layer_label(self)}: the input's {channels} channels cannot be split into "
                f"groups={self.groups}."
            )
        return (*self.kernel_size, channels // self.groups, self.filters)

    def _causal_padded(self, inputs: Any) -> tuple[Any, str]:
        """The inputs and padding a 'causal' convolution reduces to (others: unchanged)."""
        padding = self.padding
        if padding == "causal":  # pad the start of the sequence, then a 'valid' conv
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            time = [(left, 0)]
            if self.data_format == "channels_last":
                inputs = ops.pad(inputs, [(0, 0), *time, (0, 0)])
            else:
                inputs = ops.pad(inputs, [(0, 0), (0, 0), *time])
            padding = "valid"
        return inputs, padding

    def _convolve(self, inputs: Any, kernel: Any) -> Any:
        return self._convolve_with_bias(inputs, kernel, None)

    def _convolve_with_bias(self, inputs: Any, kernel: Any, bias: Any) -> Any:
        inputs, padding = self._causal_padded(inputs)
        return biased_conv(
            inputs,
            kernel,
            bias,
            strides=self.strides,
            padding=padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )

    def _spatial_lengths(self, spatial: Sequence[int | None]) -> list[int | None]:
        return [
            conv_output_length(size, k, s, self.padding, d)
            for size, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        ]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["groups"] = self.groups
        return config


class Conv1D(_Conv):
    """1D convolution over sequences ``(batch, steps, channels)``; the kernel has shape
    ``(kernel_size, channels // groups, filters)``.

    Takes ``Conv2D``'s arguments, with one size per argument, and also
    ``padding="causal"``: the sequence is padded at its start only, so that output step ``t``
    sees input steps up to ``t`` (for autoregressive models).
    """

    rank = 1


class Conv2D(_Conv):
    """2D convolution over images ``(batch, height, width, channels)`` (or channels first);
    the kernel has shape ``(kh, kw, channels // groups, filters)``.

    Args:
        filters: the number of output channels.
        kernel_size: the window's size (an int or one int per spatial axis).
        strides: the step between windows (an int or one per axis).
        padding: ``"valid"`` (no padding) or ``"same"`` (output size ``ceil(size /
            stride)``, zero padding split evenly, the odd one at the end).
        data_format: ``"channels_last"`` or ``"channels_first"``; default the configured
            image format.
        dilation_rate: the spacing between kernel taps (cannot combine with strides > 1).
        groups: split the input channels into this many groups, each convolved with
            ``filters // groups`` filters.
        activation: an activation applied to the output; None for none.
        use_bias: whether to add a bias per filter.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, bias_constraint: as in ``Dense``.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ...).

    Example:
        >>> import katman
        >>> layer = katman.layers.Conv2D(4, 3, padding="same")
        >>> tuple(layer(katman.ops.ones((1, 8, 8, 3))).shape)[1:]
        (8, 8, 4)
        >>> layer.kernel.shape
        (3, 3, 3, 4)
    """

    rank = 2


class Conv3D(_Conv):
    """3D convolution over volumes ``(batch, d1, d2, d3, channels)``; the kernel has shape
    ``(k1, k2, k3, channels // groups, filters)``. Takes ``Conv2D``'s arguments."""

    rank = 3


class _ConvTranspose(_BaseConv):
    """A transposed convolution: the kernel is ``(*kernel_size, filters, channels)``."""

    transpose = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        output_padding: int | Sequence[int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | Sequence[int] = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        owner = type(self).__name__
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = standardize_tuple(
                output_padding, self.rank, "output_padding", owner, allow_zero=True
            )
            if any(p >= s for p, s in zip(self.output_padding, self.strides, strict=True)):
                raise ValueError(
                    f"{owner}: each `output_padding` must be smaller than the stride. "
                    f"Received: output_padding={self.output_padding}, "
                    f"strides={self.strides}"
                )

    def _kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def _convolve(self, inputs: Any, kernel: Any) -> Any:
        return ops.conv_transpose(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
        )

    def _spatial_lengths(self, spatial: Sequence[int | None]) -> list[int | None]:
        pads = self.output_padding or (None,) * self.rank
        return [
            conv_transpose_output_length(size, k, s, self.padding, p, d)
            for size, k, s, p, d in zip(
                spatial, self.kernel_size, self.strides, pads, self.dilation_rate, strict=True
            )
        ]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1D convolution over ``(batch, steps, channels)``; the kernel has shape
    ``(kernel_size, filters, channels)``. Takes ``Conv2DTranspose``'s arguments."""

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2D convolution (the gradient of ``Conv2D`` with respect to its input, used
    to upsample); the kernel has shape ``(kh, kw, filters, channels)``.

    Args:
        filters: the number of output channels.
        kernel_size: the window's size (an int or one int per spatial axis).
        strides: the upsampling factor (an int or one per axis).
        padding: ``"valid"`` or ``"same"`` (output size ``size * stride``).
        output_padding: extra size added at the end of each output axis (each smaller than
            the stride); None infers it.
        data_format: ``"channels_last"`` or ``"channels_first"``; default the configured
            image format.
        dilation_rate: the spacing between kernel taps.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
            bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            ``Conv2D``.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> layer = katman.layers.Conv2DTranspose(2, 3, strides=2, padding="same")
        >>> tuple(layer(katman.ops.ones((1, 4, 4, 3))).shape)[1:]
        (8, 8, 2)
    """

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3D convolution; the kernel has shape ``(k1, k2, k3, filters, channels)``.
    Takes ``Conv2DTranspose``'s arguments."""

    rank = 3
