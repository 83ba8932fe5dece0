"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Embedding and Identity.

Also home to the argument helpers the other built-in layer modules share (tuples of sizes,
data formats, paddings, activation configs, Keras-style default names). The layers plugin
(``katman.plugins.layers.plugin``) registers the classes by import path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import katman
from katman import activations, constraints, initializers, ops, regularizers
from katman.errors import ShapeError
from katman.layers.layer import InputSpec, Layer, unique_name
from katman.layers.node import map_structure
from katman.plugins.fused import affine
from katman.serialization import FUNCTION
from katman.symbolic import KerasTensor

__all__ = [
    "Activation",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "Reshape",
]


# --- helpers shared by the built-in layers ----------------------------------------------------


def keras_name(cls: type) -> str:
    """Keras's default layer name for a class: ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls.__name__)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def default_name(layer: Any, name: str | None) -> str:
    """``name``, or a fresh Keras-style name for ``layer``'s class (``conv2d``, ``conv2d_1``)."""
    return name if name is not None else unique_name(keras_name(type(layer)))


def standardize_tuple(
    value: Any, n: int, argument: str, owner: str, *, allow_zero: bool = False
) -> tuple[int, ...]:
    """``value`` (an int or ``n`` ints) as a tuple of ``n`` positive ints.

    Raises:
        ValueError: naming ``owner`` and ``argument``, for anything else.
    """
    values = (value,) * n if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    lowest = 0 if allow_zero else 1
    if (
        values is None
        or len(values) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lowest for v in values)
    ):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(
            f"{owner}: `{argument}` must be a {kind} int or a tuple of {n} {kind} ints. "
            f"Received: {argument}={value!r}"
        )
    return values


def standardize_data_format(value: str | None, owner: str) -> str:
    """``"channels_last"`` or ``"channels_first"``; None means the configured default."""
    if value is None:
        return katman.config.image_data_format()
    fmt = str(value).lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{owner}: `data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={value!r}"
        )
    return fmt


def standardize_padding(value: str, owner: str, *, allow_causal: bool = False) -> str:
    """``"valid"`` or ``"same"`` (or ``"causal"`` where allowed), lower-cased."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = str(value).lower()
    if padding not in allowed:
        raise ValueError(
            f"{owner}: `padding` must be one of {', '.join(repr(a) for a in allowed)}. "
            f"Received: padding={value!r}"
        )
    return padding


def get_activation(identifier: Any) -> Any:
    """An activation function from a name, a config or a callable; None for none."""
    return None if identifier is None else activations.get(identifier)


def serialize_activation(function: Any) -> Any:
    """An activation as Keras writes it in a layer config: its name (``"relu"``), or a config
    dict for activation objects; ``"linear"`` for none."""
    if function is None:
        return "linear"
    config = activations.serialize(function)
    if config.get("class_name") == FUNCTION:
        return config["registered_name"]
    return config


def as_compute(value: Any, dtype: str) -> Any:
    """A variable (or tensor) cast to ``dtype`` if it has another dtype (mixed precision)."""
    return value if ops.dtype(value) == dtype else ops.cast(value, dtype)


def layer_label(layer: Any) -> str:
    """How errors name a layer: ``Dense 'dense_1'``."""
    return f"{type(layer).__name__} {layer.name!r}"


def _no_quantization(owner: str, config: Any) -> None:
    if config is not None:
        raise ValueError(
            f"{owner}: katman does not quantize layers; `quantization_config` must be None. "
            f"Received: quantization_config={config!r}"
        )


def _noise_shape(value: Any) -> tuple[int | None, ...] | None:
    if value is None:
        return None
    try:
        dims = tuple(value) if not isinstance(value, str) else None
    except TypeError:
        dims = None
    if dims is None or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in dims
    ):
        raise ValueError(
            "Dropout: `noise_shape` must be a tuple of positive ints or None. "
            f"Received: noise_shape={value!r}"
        )
    return dims


# --- Dense --------------------------------------------------------------------------------


class Dense(Layer):
    """A densely-connected layer: ``activation(inputs @ kernel + bias)``.

    Inputs of rank above 2 are multiplied on their last axis: ``(batch, d0, d1)`` becomes
    ``(batch, d0, units)``.

    Args:
        units: the size of the output's last axis (a positive int).
        activation: an activation (name or callable); None for none.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers of the weights.
        kernel_regularizer, bias_regularizer: regularizers of the weights.
        activity_regularizer: a regularizer of the outputs.
        kernel_constraint, bias_constraint: constraints applied after each update.
        quantization_config: accepted for Keras configs; must be None.
        **kwargs: base layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``).

    Example:
        >>> import katman
        >>> layer = katman.layers.Dense(4)
        >>> tuple(layer(katman.ops.ones((2, 3))).shape)
        (2, 4)
        >>> [w.name for w in layer.weights]
        ['kernel', 'bias']
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Dense: `units` must be a positive int. Received: units={units!r}")
        _no_quantization("Dense", quantization_config)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = get_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        InputSpec(min_ndim=2).check(self, input_shape)
        features = input_shape[-1]
        if features is None:
            raise ShapeError(
                f"{layer_label(self)}: the last axis of the input must be known to build the "
                f"kernel; got an input of shape {input_shape}."
            )
        self.kernel = self.add_weight(
            shape=(features, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: features})
        self.built = True

    def call(self, inputs: Any) -> Any:
        dtype = self.compute_dtype
        bias = None if self.bias is None else as_compute(self.bias, dtype)
        outputs = affine(inputs, as_compute(self.kernel, dtype), bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": serialize_activation(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }


# --- Activation, Identity -------------------------------------------------------------


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
        activation: an activation name (``"relu"``), config or callable; None for identity.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> layer = katman.layers.Activation("relu")
        >>> katman.ops.convert_to_numpy(layer(katman.ops.convert_to_tensor([-1.0, 2.0])))
        array([0., 2.], dtype=float32)
    """

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = get_activation(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs if self.activation is None else self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": serialize_activation(self.activation)}


class Identity(Layer):
    """Returns its input unchanged (any structure of tensors); a placeholder layer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def compute_output_spec(self, inputs: Any, **kwargs: Any) -> Any:
        return map_structure(
            lambda t: KerasTensor(t.shape, t.dtype) if isinstance(t, KerasTensor) else t, inputs
        )


# --- Dropout --------------------------------------------------------------------------


class Dropout(Layer):
    """Randomly zeroes a fraction ``rate`` of the inputs during training and scales the rest
    by ``1 / (1 - rate)``; at inference it returns the inputs unchanged.

    Args:
        rate: the fraction to drop, in ``[0, 1]``.
        noise_shape: the shape of the keep/drop mask, broadcast over the input (``(batch, 1,
            features)`` drops whole features at every time step); None entries take the
            input's size. Default: the input's shape.
        seed: an int making the sequence of masks reproducible, or None.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> layer = katman.layers.Dropout(0.5, seed=1)
        >>> x = katman.ops.ones((2, 4))
        >>> bool((katman.ops.convert_to_numpy(layer(x)) == 1.0).all())  # inference: identity
        True
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Dropout: `rate` must be a number in [0, 1]. Received: rate={rate!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Dropout: `seed` must be an int or None. Received: seed={seed!r}")
        self.rate = rate
        self.seed = seed
        self.noise_shape = _noise_shape(noise_shape)
        if rate > 0:
            self.seed_generator = katman.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if training and self.rate > 0:
            return katman.random.dropout(
                inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator
            )
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": noise_shape,
        }


# --- Flatten, Reshape -----------------------------------------------------------------


class Flatten(Layer):
    """Flattens each sample: ``(batch, d1, d2, ...)`` becomes ``(batch, d1 * d2 * ...)``.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the configured
            image format); with ``"channels_first"`` the channels axis is moved last before
            flattening, so both layouts give the same order.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> tuple(katman.layers.Flatten()(katman.ops.ones((2, 3, 4))).shape)
        (2, 12)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format, "Flatten")
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs: Any) -> Any:
        shape = tuple(inputs.shape)
        rank = len(shape)
        if self.data_format == "channels_first" and rank > 2:
            inputs = ops.transpose(inputs, (0, *range(2, rank), 1))
        rest = shape[1:]
        size = math.prod(rest) if None not in rest else None
        if size is not None:
            batch = shape[0] if shape[0] is not None and size else -1
            return ops.reshape(inputs, (batch, size))
        return ops.reshape(inputs, (ops.shape(inputs)[0], -1))

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        rest = tuple(input_shape)[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def compute_output_spec(self, inputs: Any, **kwargs: Any) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(inputs.shape), inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (the batch axis is kept); one entry may be
    ``-1``, inferred from the sample's size.

    Args:
        target_shape: the new shape of one sample, e.g. ``(3, 4)`` or ``(-1, 2)``.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> tuple(katman.layers.Reshape((-1, 2))(katman.ops.ones((3, 8))).shape)
        (3, 4, 2)
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            target = None
        if (
            target is None
            or not all(isinstance(d, int) and not isinstance(d, bool) for d in target)
            or not all(d > 0 or d == -1 for d in target)
            or target.count(-1) > 1
        ):
            raise ValueError(
                "Reshape: `target_shape` must be a tuple of positive ints with at most one -1. "
                f"Received: target_shape={target_shape!r}"
            )
        self.target_shape = target
        self.built = True

    def _resolve(self, sample_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        """``target_shape`` with its -1 resolved against a sample's shape (None if unknown)."""
        target = self.target_shape
        known = math.prod(d for d in target if d != -1)
        if None in sample_shape:
            return tuple(None if d == -1 else d for d in target)
        size = math.prod(sample_shape)
        if -1 in target:
            if known == 0 or size % known:
                raise ShapeError(self._mismatch(sample_shape))
            return tuple(size // known if d == -1 else d for d in target)
        if size != known:
            raise ShapeError(self._mismatch(sample_shape))
        return target

    def _mismatch(self, sample_shape: tuple[int | None, ...]) -> str:
        return (
            f"{layer_label(self)}: cannot reshape samples of shape {sample_shape} "
            f"({math.prod(sample_shape)} values) to target_shape {self.target_shape}."
        )

    def call(self, inputs: Any) -> Any:
        shape = tuple(inputs.shape)
        target = self._resolve(shape[1:])
        if None not in target:
            batch = shape[0] if shape[0] is not None else -1
            return ops.reshape(inputs, (batch, *target))
        return ops.reshape(inputs, (ops.shape(inputs)[0], *self.target_shape))

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(input_shape)
        return (input_shape[0], *self._resolve(input_shape[1:]))

    def compute_output_spec(self, inputs: Any, **kwargs: Any) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(inputs.shape), inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


# --- Embedding ------------------------------------------------------------------------


class Embedding(Layer):
    """Maps integer indices to dense vectors: row ``i`` of an ``(input_dim, output_dim)``
    table for each index ``i``.

    Args:
        input_dim: the number of rows (largest index + 1).
        output_dim: the size of each vector.
        embeddings_initializer: the table's initializer (default uniform in [-0.05, 0.05]).
        embeddings_regularizer, embeddings_constraint: the table's regularizer and constraint.
        mask_zero: treat index 0 as padding: ``compute_mask`` returns ``inputs != 0``.
        weights: an initial table (a list holding one array, or the array itself).
        quantization_config: accepted for Keras configs; must be None.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> layer = katman.layers.Embedding(10, 3)
        >>> tuple(layer(katman.ops.convert_to_tensor([[1, 2], [3, 0]])).shape)
        (2, 2, 3)
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ) -> None:
        for argument, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Embedding: `{argument}` must be a positive int. "
                    f"Received: {argument}={value!r}"
                )
        _no_quantization("Embedding", quantization_config)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False
        if weights is not None:
            self._build_with(None)
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            name="embeddings",
        )
        self.built = True

    def call(self, inputs: Any) -> Any:
        if ops.dtype(inputs) not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        outputs = ops.take(self.embeddings, inputs, axis=0)
        return as_compute(outputs, self.compute_dtype)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
