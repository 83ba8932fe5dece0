"""Normalization layers: BatchNormalization (with optional batch renormalization) and
LayerNormalization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import katman
from katman import constraints, initializers, ops, regularizers
from katman.dtypes import result_type
from katman.errors import ShapeError
from katman.layers.layer import InputSpec, Layer
from katman.plugins.fused import batch_norm_training
from katman.plugins.layers.core import as_compute, layer_label

__all__ = ["BatchNormalization", "LayerNormalization"]

_RENORM_KEYS = ("rmax", "rmin", "dmax")


def _at_least_float32(x: Any) -> Any:
    """``x`` in float32 if it is a narrower float (normalization statistics overflow in
    float16)."""
    dtype = ops.dtype(x)
    wanted = result_type(dtype, "float32")
    return x if dtype == wanted else ops.cast(x, wanted)


def _cast_like(value: Any, x: Any) -> Any:
    if value is None:
        return None
    return as_compute(value, ops.dtype(x))


def _check_axis(layer: Layer, axis: int, input_shape: tuple) -> int:
    """``axis`` made non-negative for ``input_shape``; a ShapeError if it is out of range
    or its size is unknown."""
    rank = len(input_shape)
    if not -rank <= axis < rank:
        raise ShapeError(
            f"{layer_label(layer)}: axis {axis} is out of range for an input of shape "
            f"{input_shape} (rank {rank})."
        )
    if input_shape[axis] is None:
        raise ShapeError(
            f"{layer_label(layer)}: axis {axis} of the input must have a known size to build "
            f"the weights; got an input of shape {input_shape}."
        )
    return axis % rank


class BatchNormalization(Layer):
    """Normalizes each feature (along ``axis``) with batch statistics while training, and
    with their moving averages at inference: ``gamma * (x - mean) / sqrt(var + epsilon) +
    beta``.

    With ``training=True`` the layer uses the batch's mean and variance and updates
    ``moving_mean`` and ``moving_variance`` (``moving = moving * momentum + batch * (1 -
    momentum)``); otherwise it uses the moving statistics. A frozen layer
    (``trainable=False``) always runs in inference mode, as in Keras 3.

    Args:
        axis: the feature axis (the others are reduced), e.g. ``1`` for channels-first.
        momentum: the moving averages' momentum.
        epsilon: added to the variance to avoid dividing by zero.
        center: learn an offset ``beta``.
        scale: learn a factor ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: the weights' initializers.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: for the
            learned weights.
        renorm: use batch renormalization (corrects the batch statistics towards the moving
            ones by factors ``r`` and ``d``, clipped by ``renorm_clipping``).
        renorm_clipping: a dict with optional keys ``rmax``, ``rmin``, ``dmax``.
        renorm_momentum: the momentum of renormalization's own moving statistics.
        synchronized: accepted for Keras compatibility (katman runs one process: nothing to
            synchronize).
        **kwargs: base layer arguments.

    Weights, in order: ``gamma``, ``beta`` (trainable), ``moving_mean``,
    ``moving_variance`` (non-trainable).

    Example:
        >>> import katman
        >>> layer = katman.layers.BatchNormalization()
        >>> y = layer(katman.ops.ones((4, 3)), training=True)
        >>> [w.name for w in layer.weights]
        ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        renorm: bool = False,
        renorm_clipping: dict[str, float] | None = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"BatchNormalization: `axis` must be an int. Received: {axis!r}")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = bool(renorm)
        self.renorm_clipping = _check_renorm_clipping(renorm_clipping) if renorm else None
        self.renorm_momentum = float(renorm_momentum)
        self.synchronized = bool(synchronized)
        self.supports_masking = True
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        axis = _check_axis(self, self.axis, input_shape)
        shape = (input_shape[axis],)
        if self.scale:
            self.gamma = self._weight(
                "gamma",
                shape,
                self.gamma_initializer,
                self.gamma_regularizer,
                self.gamma_constraint,
            )
        if self.center:
            self.beta = self._weight(
                "beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint
            )
        self.moving_mean = self._statistic("moving_mean", shape, self.moving_mean_initializer)
        self.moving_variance = self._statistic(
            "moving_variance", shape, self.moving_variance_initializer
        )
        if self.renorm:
            # Renormalization tracks standard deviations; they start at sqrt(moving_variance).
            stddev = _constant(ops.sqrt(self.moving_variance.value))
            self.moving_stddev = self._statistic("moving_stddev", shape, stddev)
            self.renorm_mean = self._statistic(
                "renorm_mean", shape, _constant(self.moving_mean.value)
            )
            self.renorm_stddev = self._statistic("renorm_stddev", shape, stddev)
        self._reduction_axes = [i for i in range(len(input_shape)) if i != axis]
        self._axis = axis
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: shape[0]})
        self.built = True

    def _weight(
        self, name: str, shape: tuple, initializer: Any, regularizer: Any, constraint: Any
    ) -> Any:
        return self.add_weight(
            shape=shape,
            initializer=initializer,
            regularizer=regularizer,
            constraint=constraint,
            trainable=True,
            autocast=False,
            name=name,
        )

    def _statistic(self, name: str, shape: tuple, initializer: Any) -> Any:
        return self.add_weight(
            shape=shape, initializer=initializer, trainable=False, autocast=False, name=name
        )

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ShapeError(
                f"{layer_label(self)}: the mask must have one axis fewer than the inputs; got "
                f"a mask of shape {tuple(mask.shape)} for inputs of shape {tuple(inputs.shape)}."
            )
        x = _at_least_float32(inputs)
        gamma, beta = _cast_like(self.gamma, x), _cast_like(self.beta, x)
        fused = mask is None and not (self.renorm or self.synchronized)
        if training and self.trainable and fused:
            outputs, mean, variance = batch_norm_training(
                x,
                gamma,
                beta,
                self.moving_mean.value,
                self.moving_variance.value,
                self.momentum,
                self._axis,
                self.epsilon,
            )
            self.moving_mean.assign(mean)
            self.moving_variance.assign(variance)
            return as_compute(outputs, self.compute_dtype)
        if training and self.trainable:
            mean, variance = self._moments(x, mask)
            if self.renorm:
                gamma, beta = self._renormalize(mean, variance, gamma, beta, x)
            else:
                self._update(self.moving_mean, mean, self.momentum)
                self._update(self.moving_variance, variance, self.momentum)
        else:
            mean = _cast_like(self.moving_mean, x)
            variance = _cast_like(self.moving_variance, x)
        outputs = ops.batch_normalization(
            x, mean, variance, axis=self._axis, offset=beta, scale=gamma, epsilon=self.epsilon
        )
        return as_compute(outputs, self.compute_dtype)

    def _moments(self, x: Any, mask: Any) -> tuple[Any, Any]:
        if mask is None:
            return ops.moments(x, axes=self._reduction_axes, synchronized=self.synchronized)
        keep = ops.broadcast_to(ops.expand_dims(ops.cast(mask, "bool"), -1), ops.shape(x))
        weight = ops.sum(ops.cast(keep, x.dtype), self._reduction_axes, keepdims=True)
        weight = ops.add(weight, katman.config.epsilon())
        mean = ops.divide(
            ops.sum(ops.where(keep, x, 0), self._reduction_axes, keepdims=True), weight
        )
        squares = ops.square(ops.where(keep, ops.subtract(x, mean), 0))
        variance = ops.divide(ops.sum(squares, self._reduction_axes, keepdims=True), weight)
        return ops.reshape(mean, (-1,)), ops.reshape(variance, (-1,))

    @staticmethod
    def _update(variable: Any, batch_value: Any, momentum: float) -> Any:
        """``variable = variable * momentum + batch_value * (1 - momentum)``; the new value."""
        current = _cast_like(variable, batch_value)
        new = ops.add(ops.multiply(current, momentum), ops.multiply(batch_value, 1.0 - momentum))
        variable.assign(new)
        return new

    def _renormalize(
        self, mean: Any, variance: Any, gamma: Any, beta: Any, x: Any
    ) -> tuple[Any, Any]:
        """Batch renormalization: the effective ``(gamma, beta)`` for this batch, after
        updating the renormalization and moving statistics."""
        stddev = ops.sqrt(ops.add(variance, self.epsilon))
        renorm_mean = _cast_like(self.renorm_mean, mean)
        renorm_stddev = ops.maximum(_cast_like(self.renorm_stddev, mean), (self.epsilon**0.5))
        r = ops.divide(stddev, renorm_stddev)
        d = ops.divide(ops.subtract(mean, renorm_mean), renorm_stddev)
        clipping = self.renorm_clipping
        if clipping.get("rmin") is not None:
            r = ops.maximum(r, clipping["rmin"])
        if clipping.get("rmax") is not None:
            r = ops.minimum(r, clipping["rmax"])
        if clipping.get("dmax") is not None:
            d = ops.clip(d, -clipping["dmax"], clipping["dmax"])
        r, d = ops.stop_gradient(r), ops.stop_gradient(d)
        if gamma is None:
            gamma, offset = _cast_like(r, x), _cast_like(d, x)
        else:
            gamma, offset = ops.multiply(r, gamma), ops.multiply(d, gamma)
        beta = offset if beta is None else ops.add(offset, beta)
        self._update(self.renorm_mean, mean, self.renorm_momentum)
        self._update(self.renorm_stddev, stddev, self.renorm_momentum)
        self._update(self.moving_mean, mean, self.momentum)
        moving_stddev = self._update(self.moving_stddev, stddev, self.momentum)
        self.moving_variance.assign(ops.relu(ops.subtract(ops.square(moving_stddev), self.epsilon)))
        return gamma, beta

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(input_shape)
        if not -len(input_shape) <= self.axis < len(input_shape):
            raise ShapeError(
                f"{layer_label(self)}: axis {self.axis} is out of range for an input of shape "
                f"{input_shape}."
            )
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


def _constant(value: Any) -> Any:
    """An initializer that returns ``value`` (cast to the requested dtype)."""

    def initializer(shape: Sequence[int], dtype: Any = None) -> Any:
        return ops.cast(value, dtype) if dtype is not None else value

    return initializer


def _check_renorm_clipping(clipping: dict[str, float] | None) -> dict[str, float]:
    clipping = dict(clipping or {})
    unknown = set(clipping) - set(_RENORM_KEYS)
    if unknown:
        raise ValueError(
            f"BatchNormalization: `renorm_clipping` takes the keys {', '.join(_RENORM_KEYS)}. "
            f"Received: {clipping!r}"
        )
    rmin, rmax, dmax = (clipping.get(k) for k in ("rmin", "rmax", "dmax"))
    if rmin is not None and rmax is not None and rmax < rmin:
        raise ValueError(
            f"BatchNormalization: renorm_clipping's rmax ({rmax}) is below its rmin ({rmin})."
        )
    if dmax is not None and dmax < 0:
        raise ValueError(f"BatchNormalization: renorm_clipping's dmax ({dmax}) is negative.")
    return clipping


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (by default its features): ``gamma * (x - mean)
    / sqrt(var + epsilon) + beta``, the statistics computed per sample.

    Args:
        axis: the axis or axes to normalize over (an int or a list of ints).
        epsilon: added to the variance to avoid dividing by zero.
        center: learn an offset ``beta``.
        scale: learn a factor ``gamma``.
        rms_scaling: scale by ``1 / sqrt(var + epsilon)`` only (no centering), as Keras's
            deprecated option does.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
            beta_constraint, gamma_constraint: for the learned weights.
        **kwargs: base layer arguments.

    Example:
        >>> import katman
        >>> layer = katman.layers.LayerNormalization()
        >>> tuple(layer(katman.ops.ones((2, 5))).shape)
        (2, 5)
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        rms_scaling: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis) and axis:
            self.axis: int | list[int] = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(
                f"LayerNormalization: `axis` must be an int or a list of ints. Received: {axis!r}"
            )
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.autocast = False
        self.gamma = self.beta = None

    def build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        self._axes = sorted({_check_axis(self, a, input_shape) for a in axes})
        shape = tuple(input_shape[a] for a in self._axes)
        # Weights broadcast against the input: sizes on the normalized axes, 1 elsewhere.
        self._broadcast_shape = tuple(
            input_shape[i] if i in self._axes else 1 for i in range(len(input_shape))
        )
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(
                shape=shape,
                initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
                autocast=False,
                name="gamma",
            )
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(
                shape=shape,
                initializer=self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
                autocast=False,
                name="beta",
            )
        self._rank = len(input_shape)
        sizes = {a: input_shape[a] for a in self._axes}
        self.input_spec = InputSpec(ndim=self._rank, axes=sizes)
        self.built = True

    def _broadcast(self, weight: Any, x: Any) -> Any:
        if weight is None:
            return None
        weight = _cast_like(weight, x)
        if self._axes == [self._rank - 1]:
            return weight
        return ops.reshape(weight, self._broadcast_shape)

    def call(self, inputs: Any) -> Any:
        x = _at_least_float32(inputs)
        gamma, beta = self._broadcast(self.gamma, x), self._broadcast(self.beta, x)
        mean, variance = ops.moments(x, axes=self._axes, keepdims=True)
        inverse = ops.rsqrt(ops.add(variance, self.epsilon))
        if gamma is not None:
            inverse = ops.multiply(inverse, gamma)
        if self.rms_scaling:
            outputs = ops.multiply(x, inverse)
        else:
            shift = ops.negative(ops.multiply(mean, inverse))
            if beta is not None:
                shift = ops.add(shift, beta)
            outputs = ops.add(ops.multiply(x, inverse), shift)
        return as_compute(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        input_shape = tuple(input_shape)
        for axis in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -len(input_shape) <= axis < len(input_shape):
                raise ShapeError(
                    f"{layer_label(self)}: axis {axis} is out of range for an input of shape "
                    f"{input_shape}."
                )
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
