"""``katman.Model``: a layer with training methods, built by subclassing or from a graph."""

from __future__ import annotations

from typing import Any

from katman.layers.layer import Layer
from katman.models.trainer import Trainer
from katman.symbolic import KerasTensor


class Model(Trainer, Layer):
    """A trainable layer graph.

    Two ways to make one, as in Keras:

    * functional: ``Model(inputs, outputs)`` with tensors from ``katman.Input`` (see
      :class:`katman.models.functional.Functional`);
    * subclassing: define layers in ``__init__`` and the computation in ``call``.

    Example:
        >>> import katman
        >>> inputs = katman.Input(shape=(4,))
        >>> outputs = katman.layers.Dense(2)(inputs)
        >>> model = katman.Model(inputs, outputs)
        >>> model.count_params()
        10
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        graph = kwargs.get("inputs", args[0] if args else None), kwargs.get(
            "outputs", args[1] if len(args) > 1 else None
        )
        if all(_is_graph_tensors(part) for part in graph):
            from katman.models.functional import Functional

            if not issubclass(cls, Functional):
                # Model(inputs, outputs), or a subclass (with its own train_step, say) made
                # from a graph: the instance is functional and keeps the subclass's methods.
                target = Functional if cls is Model else _functional_subclass(cls)
                return Functional.__new__(target)
        instance = super().__new__(cls)
        instance._constructor_arguments = _constructor_arguments(cls, args, kwargs)
        return instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            raise TypeError(
                f"{type(self).__name__}(): unexpected positional arguments; a functional model "
                "is made with Model(inputs, outputs)."
            )
        Layer.__init__(self, **kwargs)
        self._reset_trainer()
        self._compile_loss = None
        self._compile_metrics = None

    def build(self, input_shape: Any = None) -> None:
        """Create the weights of a subclassed model by calling it on symbolic inputs of
        ``input_shape`` (a shape, or a list of shapes)."""
        if self.built or input_shape is None:
            self.built = True
            return
        if _is_shape(input_shape):
            inputs: Any = KerasTensor(tuple(input_shape), self.compute_dtype)
        else:
            inputs = [KerasTensor(tuple(s), self.compute_dtype) for s in input_shape]
        self.built = True
        self._build_shapes = input_shape
        self.compute_output_spec(inputs)

    def _build_with(self, shapes: Any) -> None:
        # A subclassed model builds its layers as its call uses them.
        self._build_shapes = shapes
        if type(self).build is not Model.build:
            self.build(shapes)
        self.built = True

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in ``model.layers``.

        Raises:
            ValueError: neither or both given, or no such layer (the message lists the names).
        """
        if (name is None) == (index is None):
            raise ValueError("get_layer: pass exactly one of name= or index=.")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer: index {index} is out of range; model {self.name!r} has "
                    f"{len(layers)} layers."
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"get_layer: model {self.name!r} has no layer named {name!r}. Its layers: "
            f"{', '.join(layer.name for layer in layers) or 'none'}."
        )

    def summary(
        self,
        line_length: int | None = None,
        positions: Any = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Print the layers with their output shapes and parameter counts, then the totals
        (trainable and non-trainable), in Keras's layout."""
        from katman.models.summary import print_summary

        print_summary(
            self,
            line_length=line_length,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
        )

    # -- saving --------------------------------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save architecture, weights, compile settings and optimizer state to a ``.katman``
        file (see ``katman.saving.save_model``)."""
        from katman.saving.model_file import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights to a ``.weights.safetensors`` file."""
        from katman.saving.model_file import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Load weights saved by ``save_weights`` (or from a ``.katman`` file)."""
        from katman.saving.model_file import load_weights

        load_weights(self, filepath)

    def get_compile_config(self) -> dict[str, Any]:
        """What ``compile`` was given, as JSON data (empty if the model is not compiled)."""
        from katman.saving.model_file import compile_config

        return compile_config(self) or {}

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Compile the model with settings from ``get_compile_config()``."""
        from katman.saving.model_file import compile_from_config

        compile_from_config(self, config)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON (``katman.models.model_from_json`` rebuilds it)."""
        from katman.saving.model_file import model_to_json

        return model_to_json(self, **kwargs)

    def get_config(self) -> dict[str, Any]:
        """A subclassed model's config: the constructor arguments it was made with, when
        they are plain JSON data. Override it (with ``from_config``) otherwise."""
        arguments = getattr(self, "_constructor_arguments", None)
        if arguments is None:
            raise NotImplementedError(
                f"{type(self).__name__} was constructed with arguments that are not plain "
                "JSON data; define get_config() and from_config() to save it."
            )
        return dict(arguments)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Model:
        """A model from ``get_config()``'s output: a functional graph when the config holds
        one, else the class's constructor arguments."""
        if "input_layers" in config and "output_layers" in config:
            from katman.models.functional import Functional
            from katman.models.graph_config import functional_from_config

            target = cls if issubclass(cls, Functional) else Functional
            return functional_from_config(target, config, custom_objects)
        return cls(**config)


def _constructor_arguments(cls: type, args: tuple, kwargs: dict) -> dict[str, Any] | None:
    """The arguments of ``cls(*args, **kwargs)`` by parameter name, if JSON can hold them."""
    import inspect
    import json

    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    arguments = dict(list(bound.arguments.items())[1:])
    for parameter in inspect.signature(cls.__init__).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            if arguments.pop(parameter.name, ()):
                return None  # positional extras have no names to store them under
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(parameter.name, {}))
    try:
        json.dumps(arguments)
    except (TypeError, ValueError):
        return None
    return arguments


def _is_graph_tensors(value: Any) -> bool:
    """Whether ``value`` is symbolic tensors (alone, or in a non-empty list or dict)."""
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, (list, tuple)) and bool(value) and all(
        _is_graph_tensors(v) for v in value
    )


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    from katman.models.functional import Functional

    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(
            cls.__name__, (cls, Functional), {"__module__": cls.__module__}
        )
    return _FUNCTIONAL_SUBCLASSES[cls]


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)
