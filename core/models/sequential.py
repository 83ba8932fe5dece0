"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman.errors import ShapeError
from katman.layers.input_layer import InputLayer
from katman.layers.layer import Layer, _layout_changed
from katman.models.functional import check_input
from katman.models.model import Model
from katman.symbolic import KerasTensor


class Sequential(Model):
    """A model whose layers run one after the other.

    Layers come from the constructor's list or from :meth:`add`. The model builds when its
    input shape is known: from a leading ``katman.Input``/``InputLayer``, an ``input_shape=``
    on the first layer, ``build(input_shape)``, or the first call.

    Example:
        >>> import katman
        >>> model = katman.Sequential([katman.Input(shape=(8,)), katman.layers.Dense(4)])
        >>> model.add(katman.layers.Dense(1))
        >>> model.count_params()
        41
    """

    def __init__(
        self,
        layers: Sequence[Any] | None = None,
        trainable: bool = True,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        for layer in layers or ():
            self.add(layer, rebuild=False)
        self._maybe_build_from_input()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (or a ``katman.Input`` tensor, which sets the input shape).

        Raises:
            TypeError: not a layer.
            ValueError: a layer name already in the model.
        """
        if isinstance(layer, KerasTensor):
            history = getattr(layer, "_keras_history", None)
            if history is None or not isinstance(history[0], InputLayer):
                raise TypeError("Sequential.add: a tensor must come from katman.Input().")
            layer = history[0]
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add: expected a katman layer, got {type(layer).__name__} {layer!r}."
            )
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    f"Sequential {self.name!r}: an InputLayer can only be the first layer."
                )
            self._input_layer = layer
        else:
            if any(existing.name == layer.name for existing in self._stack):
                raise ValueError(
                    f"Sequential {self.name!r} already has a layer named {layer.name!r}; "
                    "layer names in a model must be unique."
                )
            self._stack.append(layer)
            self._track_layer(layer, f"{layer.name}", native=True)
        self.built = False
        self._step_functions.clear()
        if rebuild:
            self._maybe_build_from_input()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer.

        Raises:
            IndexError: the model has no layers.
        """
        if not self._stack:
            raise IndexError(f"Sequential {self.name!r} has no layers to pop.")
        layer = self._stack.pop()
        index = next(i for i, t in enumerate(self._tracked_layers) if t is layer)
        del self._tracked_layers[index], self._tracked_layer_names[index]
        _layout_changed()
        self.built = False
        self._step_functions.clear()
        if rebuild:
            self._maybe_build_from_input()
        return layer

    def _maybe_build_from_input(self) -> None:
        if self._input_layer is not None:
            shape = self._input_layer.batch_shape
        elif self._stack and self._stack[0]._batch_input_shape is not None:
            shape = self._stack[0]._batch_input_shape
        else:
            return
        if self._stack:
            self.build(shape)

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (the InputLayer is not listed, as in Keras)."""
        return list(self._stack)

    @property
    def input_shape(self) -> tuple | None:
        return tuple(self._build_shapes) if self._build_shapes is not None else None

    def build(self, input_shape: Any = None) -> None:
        """Build every layer in turn for inputs of ``input_shape`` (with the batch axis)."""
        if input_shape is None:
            raise ValueError(f"Sequential {self.name!r}.build needs an input_shape.")
        input_shape = tuple(input_shape)
        if not self._stack:
            raise ValueError(f"Sequential {self.name!r} has no layers to build.")
        if self._input_layer is None or self._input_layer.batch_shape != input_shape:
            self._input_layer = InputLayer(
                batch_shape=input_shape, dtype=self._stack[0].compute_dtype
            )
        tensor: Any = self._input_layer.output
        for layer in self._stack:
            try:
                tensor = layer(tensor)
            except ShapeError:
                raise
        self._build_shapes = input_shape
        self.output_shape = tensor.shape
        self.built = True

    def _build_with(self, shapes: Any) -> None:
        # Built from real data: the batch size of the first batch is not part of the model.
        self.build((None, *tuple(shapes)[1:]))

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if self._input_layer is not None and hasattr(inputs, "shape"):
            check_input(self, self._input_layer.output, tuple(inputs.shape))
        outputs = inputs
        for layer in self._stack:
            if layer._call_takes_training:
                outputs = layer(outputs, training=training)
            else:
                outputs = layer(outputs)
        return outputs

    def compute_output_spec(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        outputs = inputs
        for layer in self._stack:
            outputs = layer(outputs)
        return outputs

    @property
    def output_names(self) -> list[str]:
        return [self._stack[-1].name] if self._stack else ["output"]

    def get_config(self) -> dict[str, Any]:
        from katman import layers

        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [],
        }
        if self._input_layer is not None:
            config["layers"].append(layers.serialize(self._input_layer))
        config["layers"].extend(layers.serialize(layer) for layer in self._stack)
        if self._build_shapes is not None:
            config["build_input_shape"] = list(self._build_shapes)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Sequential:
        from katman import layers

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(
                layers.deserialize(layer_config, custom_objects=custom_objects), rebuild=False
            )
        model._maybe_build_from_input()
        if not model.built and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model
