"""The Layer interface: state (variables), a ``call`` computation, and the bookkeeping that
lets layers nest, build themselves from their first input, and join symbolic graphs.

The class derives from the active backend's ``layer_base`` too (``torch.nn.Module`` on torch,
``tf.Module`` on tensorflow), so importing this module loads the backend.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from katman import ops
from katman.backend import get_backend
from katman.dtypes import is_float, standardize_dtype
from katman.errors import ShapeError
from katman.layers.dtype_policy import DTypePolicy
from katman.layers.node import Node, flatten, map_structure
from katman.losses.loss import _snake
from katman.random import SeedGenerator
from katman.symbolic import KerasTensor, any_symbolic
from katman.variables import Variable

__all__ = ["InputSpec", "Layer"]

_name_counters: defaultdict[str, itertools.count] = defaultdict(itertools.count)
# Bumped whenever any layer starts holding another layer or a variable (or stops): a layer
# keeps the flattened list of the layers it holds for as long as this does not change, since
# every training step walks that list several times (weights, losses).
_layout_version = 0


def _layout_changed() -> None:
    global _layout_version
    _layout_version += 1


def unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``, ... for later layers with the same base name."""
    index = next(_name_counters[base])
    return base if index == 0 else f"{base}_{index}"


class _CallContext(threading.local):
    """What the outermost layer call decided, for the layers it calls (``training``)."""

    def __init__(self) -> None:
        self.depth = 0
        self.training: bool | None = None


_context = _CallContext()


class InputSpec:
    """What a layer accepts: a ``dtype``, a ``shape`` (None for any size), a rank (``ndim``,
    ``min_ndim``, ``max_ndim``) and fixed sizes per axis (``axes={-1: 64}``)."""

    def __init__(
        self,
        dtype: Any = None,
        shape: Sequence[int | None] | None = None,
        ndim: int | None = None,
        max_ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict[int, int] | None = None,
        allow_last_axis_squeeze: bool = False,
        name: str | None = None,
    ) -> None:
        self.dtype = standardize_dtype(dtype) if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name

    def check(self, layer: Layer, shape: tuple, index: int = 0) -> None:
        """Raise :class:`ShapeError` naming ``layer`` if ``shape`` does not fit."""
        rank = len(shape)
        expected = None
        if self.ndim is not None and rank != self.ndim:
            expected = f"rank {self.ndim}"
        elif self.min_ndim is not None and rank < self.min_ndim:
            expected = f"rank of at least {self.min_ndim}"
        elif self.max_ndim is not None and rank > self.max_ndim:
            expected = f"rank of at most {self.max_ndim}"
        else:
            for axis, size in self.axes.items():
                if size is not None and (
                    axis >= rank or -axis > rank or shape[axis] not in (size, None)
                ):
                    expected = f"axis {axis} of size {size}"
                    break
            if expected is None and self.shape is not None:
                for want, got in zip(self.shape, shape, strict=True):
                    if want is not None and got is not None and want != got:
                        expected = f"shape {self.shape}"
                        break
        if expected is not None:
            raise ShapeError(
                f"Input {index} of layer {layer.name!r} ({type(layer).__name__}) is "
                f"incompatible with the layer: expected {expected}, got an input of shape "
                f"{shape}."
            )

    def get_config(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }


class Layer(get_backend().layer_base):
    """The base class of every layer: subclass it, create weights in ``build`` (or
    ``__init__``) with :meth:`add_weight`, and compute in ``call``.

    Args:
        trainable: whether the layer's variables are trained.
        name: the layer's name (unique by default: ``dense``, ``dense_1``, ...).
        dtype: a dtype or a ``DTypePolicy`` name (``"mixed_float16"``): the variables' dtype
            and the dtype the layer computes in.
        autocast: cast floating inputs to the compute dtype.
        activity_regularizer: a regularizer applied to the layer's outputs.
        input_shape: (for the first layer of a ``Sequential``) the shape of one sample.

    Example:
        >>> import katman
        >>> class Scale(katman.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.factor = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.factor
        >>> layer = Scale()
        >>> katman.ops.convert_to_numpy(layer(katman.ops.ones((2, 3)))).shape
        (2, 3)
    """

    def __init__(
        self,
        *,
        activity_regularizer: Any = None,
        trainable: bool = True,
        dtype: Any = None,
        autocast: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        getattr(super(), "_backend_init", lambda: None)()
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword arguments {sorted(kwargs)}."
            )
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape else None
        self._name = name or unique_name(_snake(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype_policy = DTypePolicy.get(dtype)
        self.autocast = autocast
        self.built = False
        self.supports_masking = getattr(self, "supports_masking", False)
        self.input_spec: InputSpec | list[InputSpec] | None = None
        self._tracked_layers: list[Layer] = []
        # The name each held layer is tracked under (its attribute, or its own name in a
        # graph): the stable path of its variables in saved files.
        self._tracked_layer_names: list[str] = []
        self._trainable_vars: list[Variable] = []
        self._non_trainable_vars: list[Variable] = []
        self._seed_generators: list[SeedGenerator] = []
        self._added_losses: list[Any] = []
        self._flat_layers: tuple[int, list[Layer]] | None = None  # (layout, layers)
        self._accepted_input: tuple[InputSpec, tuple] | None = None  # (spec, shape) checked
        self._inbound_nodes: list[Node] = []
        self._build_shapes: Any = None
        from katman import regularizers

        self.activity_regularizer = regularizers.get(activity_regularizer)
        signature = inspect.signature(self.call).parameters
        self._call_takes_training = "training" in signature
        self._call_takes_mask = "mask" in signature
        self._build_is_default = type(self).build is Layer.build

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A layer built by hand (``layer.build(shape)``) is built: record it, so the first
        # call does not build it again.
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):

            @functools.wraps(build)
            def marked_build(self: Layer, *args: Any, **kwargs: Any) -> Any:
                result = build(self, *args, **kwargs)
                if self._build_shapes is None and args:
                    self._build_shapes = args[0]
                self.built = True
                return result

            marked_build._marks_built = True  # type: ignore[attr-defined]
            cls.build = marked_build

    # -- identity --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def dtype(self) -> str:
        """The variables' dtype."""
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freezing a layer freezes the layers it holds too."""
        self._trainable = bool(value)
        for layer in self._tracked_layers:
            layer.trainable = value

    # -- tracking --------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and "_tracked_layers" in self.__dict__:
            self._track(name, value)
        super().__setattr__(name, value)

    def _track(self, name: str, value: Any) -> None:
        if isinstance(value, Layer):
            self._track_layer(value, name, native=False)
        elif isinstance(value, Variable):
            self._track_variable(value)
        elif isinstance(value, SeedGenerator):
            if all(value is not g for g in self._seed_generators):
                self._seed_generators.append(value)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if isinstance(item, Layer):
                    self._track_layer(item, f"{name}_{index}", native=True)
                elif isinstance(item, Variable):
                    self._track_variable(item)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, Layer):
                    self._track_layer(item, f"{name}_{key}", native=True)

    def _track_layer(self, layer: Layer, name: str, *, native: bool) -> None:
        if layer is self or any(layer is known for known in self._tracked_layers):
            return
        self._tracked_layers.append(layer)
        self._tracked_layer_names.append(name)
        _layout_changed()
        if native:
            getattr(self, "_track_native_layer", lambda *_: None)(layer, name)

    def _track_variable(self, variable: Variable) -> None:
        known = self._trainable_vars if variable.trainable else self._non_trainable_vars
        if any(variable is v for v in known):
            return
        known.append(variable)
        _layout_changed()
        getattr(self, "_track_native_variable", lambda _: None)(variable)

    @property
    def layers(self) -> list[Layer]:
        """The layers this layer holds (directly)."""
        return list(self._tracked_layers)

    def _flatten_layers(self, include_self: bool = True) -> Iterator[Layer]:
        """This layer (with ``include_self``) and every layer it holds, depth first, each
        once."""
        cached = self._flat_layers
        if cached is None or cached[0] != _layout_version:
            cached = (_layout_version, list(self._walk_layers()))
            self._flat_layers = cached
        layers = cached[1]
        return iter(layers if include_self else layers[1:])

    def _walk_layers(self) -> Iterator[Layer]:
        seen: set[int] = set()
        stack = [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            yield layer
            stack.extend(reversed(layer._tracked_layers))

    @property
    def weights(self) -> list[Variable]:
        """Trainable then non-trainable variables of this layer, then of the layers it holds."""
        found: list[Variable] = []
        seen: set[int] = set()
        for layer in self._flatten_layers():
            for variable in (*layer._trainable_vars, *layer._non_trainable_vars):
                if id(variable) not in seen:
                    seen.add(id(variable))
                    found.append(variable)
        return found

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self.trainable:
            return []
        found: list[Variable] = []
        seen: set[int] = set()
        for layer in self._flatten_layers():
            if not layer.trainable:
                continue
            for variable in layer._trainable_vars:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    found.append(variable)
        return found

    @property
    def non_trainable_weights(self) -> list[Variable]:
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_variables(self) -> list[Variable]:
        """Every variable a training step does not differentiate: non-trainable weights and
        the seed generators' state (what ``stateless_call`` takes and returns)."""
        trainable = {id(v) for v in self.trainable_variables}
        return [v for v in self.variables if id(v) not in trainable]

    @property
    def variables(self) -> list[Variable]:
        """Every variable, seed generators' state included (what a training step updates)."""
        found = self.weights
        seen = {id(v) for v in found}
        for layer in self._flatten_layers():
            for generator in layer._seed_generators:
                if id(generator.state) not in seen:
                    seen.add(id(generator.state))
                    found.append(generator.state)
        return found

    def get_weights(self) -> list[Any]:
        """The weights' values as NumPy arrays, in ``weights`` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Assign NumPy arrays (in ``weights`` order; shapes must match).

        Raises:
            ValueError: a different number of arrays, or an array of another shape.
        """
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"Layer {self.name!r}: set_weights got {len(weights)} arrays for "
                f"{len(own)} weights ({', '.join(v.name for v in own) or 'none'})."
            )
        for variable, value in zip(own, weights, strict=True):
            shape = tuple(getattr(value, "shape", ()))
            if shape != variable.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {variable.name!r} has shape "
                    f"{variable.shape}; set_weights got an array of shape {shape}."
                )
        for variable, value in zip(own, weights, strict=True):
            variable.assign(value)

    def count_params(self) -> int:
        """The number of scalars in the layer's weights.

        Raises:
            ValueError: the layer is not built yet (its weights do not exist).
        """
        if not self.built and not self.weights:
            raise ValueError(
                f"Layer {self.name!r} is not built yet, so it has no weights to count. Call it "
                "on an input (or call build(input_shape)) first."
            )
        total = 0
        for variable in self.weights:
            size = 1
            for dim in variable.shape:
                size *= dim
            total += size
        return total

    # -- weights ---------------------------------------------------------------------------
    def add_weight(
        self,
        shape: Sequence[int] | None = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str = "none",
        name: str | None = None,
    ) -> Variable:
        """Create a variable owned by this layer.

        Args:
            shape: its shape (default ``()``).
            initializer: an initializer, its name, or a config (default ``"glorot_uniform"``
                for floats, ``"zeros"`` otherwise).
            dtype: its dtype (default: the layer's variable dtype).
            trainable: whether optimizers update it.
            regularizer: adds ``regularizer(variable)`` to ``layer.losses``.
            constraint: applied to the variable after each optimizer update.
            name: its name.
        """
        from katman import constraints, initializers, regularizers

        shape = tuple(int(d) for d in (shape or ()))
        dtype = standardize_dtype(dtype) if dtype is not None else self.variable_dtype
        if initializer is None:
            initializer = "glorot_uniform" if is_float(dtype) else "zeros"
        init = initializers.get(initializer)
        variable = Variable(
            init, shape=shape, dtype=dtype, trainable=trainable, name=name or "variable"
        )
        variable.regularizer = regularizers.get(regularizer)
        variable.constraint = constraints.get(constraint)
        variable.aggregation = aggregation
        self._track_variable(variable)
        return variable

    def add_variable(self, *args: Any, **kwargs: Any) -> Variable:
        """The same as :meth:`add_weight`."""
        return self.add_weight(*args, **kwargs)

    # -- losses ----------------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Add a scalar to the training loss for the current call (a penalty computed in
        ``call``); read back through ``layer.losses``."""
        self._added_losses.append(loss)

    @property
    def losses(self) -> list[Any]:
        """Losses added in the last call, and the weights' regularization penalties, of this
        layer and the layers it holds."""
        found: list[Any] = []
        for layer in self._flatten_layers():
            found.extend(layer._added_losses)
            for variable in (*layer._trainable_vars, *layer._non_trainable_vars):
                if getattr(variable, "regularizer", None) is not None:
                    found.append(variable.regularizer(variable.value))
        return found

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            if layer._added_losses:  # setting an attribute of a torch module is not free
                layer._added_losses = []

    # -- building --------------------------------------------------------------------------
    def build(self, input_shape: Any = None) -> None:
        """Create the layer's weights for inputs of ``input_shape`` (called once, on the
        first call). The default creates none."""
        self.built = True

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Build from :meth:`get_build_config`'s output (used when loading a model)."""
        shape = config.get("input_shape")
        if shape is not None and not self.built:
            self._build_with(shape)

    def get_build_config(self) -> dict[str, Any] | None:
        if self._build_shapes is None:
            return None
        return {"input_shape": self._build_shapes}

    def _build_with(self, shapes: Any) -> None:
        self._build_shapes = shapes
        if not self._build_is_default:
            self.build(shapes)
        self.built = True

    def _maybe_build(self, args: tuple, kwargs: dict) -> None:
        first = args[0] if args else next(iter(kwargs.values()), None)
        shapes = map_structure(_shape_of, first)
        self._build_with(shapes)

    # -- calling ---------------------------------------------------------------------------
    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"Layer {type(self).__name__} must implement call().")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if any_symbolic(args, kwargs):
            return self._symbolic_call(args, kwargs)
        context = _context
        outermost = context.depth == 0
        if self._call_takes_training:
            training = kwargs.get("training")
            if training is None:
                training = context.training
                if training is not None:
                    kwargs["training"] = training
        else:
            training = kwargs.pop("training", None)
            if training is None:
                training = context.training
        if self.input_spec is not None:
            self._check_input_spec(args[0] if args else next(iter(kwargs.values())))
        if not self.built:
            self._maybe_build(args, kwargs)
            if self.input_spec is not None:
                self._check_input_spec(args[0] if args else next(iter(kwargs.values())))
        if args:
            args = (self._cast_inputs(args[0]), *args[1:])
        if not self._call_takes_mask:
            kwargs.pop("mask", None)
        if outermost:
            self._clear_losses()
        saved_training = context.training
        context.depth += 1
        context.training = training
        try:
            outputs = self.call(*args, **kwargs)
        finally:
            context.depth -= 1
            context.training = saved_training
        if self.activity_regularizer is not None:
            for output in flatten(outputs):
                self.add_loss(
                    ops.divide(
                        self.activity_regularizer(output),
                        ops.cast(ops.shape(output)[0], output.dtype),
                    )
                )
        return outputs

    def _cast_inputs(self, inputs: Any) -> Any:
        compute = self.compute_dtype
        backend = get_backend()
        autocast = self.autocast

        def cast(value: Any) -> Any:
            if not backend.is_tensor(value):
                if not isinstance(value, (np.ndarray, list, float, int)):
                    return value
                value = ops.convert_to_tensor(value)
            if autocast:
                dtype = backend.dtype_of(value)
                if dtype != compute and is_float(dtype):
                    return ops.cast(value, compute)
            return value

        if isinstance(inputs, (list, tuple, dict)) and not _is_number_list(inputs):
            return map_structure(cast, inputs)
        return cast(inputs)

    def _check_input_spec(self, inputs: Any) -> None:
        spec = self.input_spec
        if isinstance(spec, InputSpec) and hasattr(inputs, "shape"):
            # One input, most often of the shape seen at the last call: checked then.
            shape = tuple(inputs.shape)
            accepted = self._accepted_input
            if accepted is not None and accepted[0] is spec and accepted[1] == shape:
                return
            spec.check(self, shape, 0)
            self._accepted_input = (spec, shape)
            return
        specs = spec if isinstance(spec, list) else [spec]
        values = flatten(inputs)
        for index, (spec, value) in enumerate(zip(specs, values, strict=False)):
            if spec is not None and hasattr(value, "shape"):
                spec.check(self, tuple(value.shape), index)

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        first = args[0] if args else next(iter(kwargs.values()))
        if self.input_spec is not None:
            self._check_input_spec(first)
        if not self.built:
            self._maybe_build(args, kwargs)
            if self.input_spec is not None:
                self._check_input_spec(first)
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        outputs = self.compute_output_spec(*args, **kwargs)
        # An input passed straight through still needs an output tensor of its own.
        given = {id(t) for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)}
        outputs = map_structure(
            lambda t: KerasTensor(t.shape, t.dtype) if id(t) in given else t, outputs
        )
        Node(self, args, kwargs, outputs)
        return outputs

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """The KerasTensor(s) this layer returns for KerasTensor inputs. The default uses
        ``compute_output_shape`` if the layer defines it, else runs ``call`` symbolically."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = self.compute_output_shape(map_structure(_shape_of, args[0]))
            return _specs_from_shapes(shapes, self.compute_dtype)
        if not self._call_takes_mask:
            kwargs.pop("mask", None)
        saved = _context.training
        _context.training = False
        _context.depth += 1
        try:
            return self.call(*args, **kwargs)
        finally:
            _context.depth -= 1
            _context.training = saved

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape`` (None for unknown sizes)."""
        inputs = map_structure(
            lambda s: KerasTensor(s, self.compute_dtype), input_shape, is_leaf=_is_shape
        )
        outputs = self.compute_output_spec(inputs)
        return map_structure(lambda t: t.shape, outputs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The mask of the outputs: the input mask if ``supports_masking``, else None."""
        return previous_mask if self.supports_masking else None

    # -- stateless use (jax) ---------------------------------------------------------------
    def stateless_call(
        self,
        trainable_variables: Sequence[Any],
        non_trainable_variables: Sequence[Any],
        *args: Any,
        return_losses: bool = False,
        **kwargs: Any,
    ) -> tuple:
        """Call the layer on given variable values, leaving its own variables untouched:
        returns ``(outputs, new non-trainable values)`` (and the losses, if asked). On jax
        this composes with ``jax.jit`` and ``jax.grad``.
        """
        backend = get_backend()
        trainable = self.trainable_variables
        others = self.non_trainable_variables
        if len(trainable_variables) != len(trainable) or len(non_trainable_variables) != len(
            others
        ):
            raise ValueError(
                f"Layer {self.name!r}.stateless_call: expected {len(trainable)} trainable and "
                f"{len(others)} non-trainable values, got {len(trainable_variables)} and "
                f"{len(non_trainable_variables)}."
            )
        handles = [v.handle for v in (*trainable, *others)]
        saved = backend.replace_variable_values(
            handles, [*trainable_variables, *non_trainable_variables]
        )
        try:
            outputs = self(*args, **kwargs)
            new_values = [v.value for v in others]
            losses = self.losses
        finally:
            backend.replace_variable_values(handles, saved)
        return (outputs, new_values, losses) if return_losses else (outputs, new_values)

    # -- configuration ---------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (without its weights)."""
        from katman import regularizers

        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype_policy.name,
        }
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _shape_of(value: Any) -> Any:
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    return tuple(None if d is None else int(d) for d in shape)


def _is_number_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, (int, float, list)) for v in value)


def _is_shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(d is None or isinstance(d, int) for d in value)


def _specs_from_shapes(shapes: Any, dtype: str) -> Any:
    if _is_shape(shapes):
        return KerasTensor(shapes, dtype)
    if isinstance(shapes, list) and shapes and all(isinstance(d, int) or d is None for d in shapes):
        return KerasTensor(tuple(shapes), dtype)
    return map_structure(lambda s: KerasTensor(s, dtype), shapes, is_leaf=_is_shape)
