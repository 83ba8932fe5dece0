"""``Lambda``: a layer that applies a function — a registered one, so that saving a model
never stores code."""

from __future__ import annotations

from typing import Any

from katman import serialization
from katman.layers.layer import Layer

# Registry kinds a Lambda's function may come from, in lookup order.
FUNCTION_KINDS = ("function", "activation", "op")


class Lambda(Layer):
    """Applies ``function(inputs, **arguments)``.

    The model saves and loads only if ``function`` is registered: a built-in op or
    activation, or a function decorated with ``katman.saving.register_serializable()``.
    Anonymous functions work in memory, but saving says why it cannot store them.

    Args:
        function: the function to apply.
        output_shape: the output shape (without the batch axis), when symbolic inference
            by running ``function`` on symbolic tensors is not possible.
        arguments: keyword arguments for ``function`` (JSON data).

    Example:
        >>> import katman
        >>> layer = katman.layers.Lambda(katman.ops.square)
        >>> katman.ops.convert_to_numpy(layer(katman.ops.convert_to_tensor([2.0]))).tolist()
        [4.0]
    """

    def __init__(
        self,
        function: Any,
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, got {function!r}.")
        if mask is not None:
            raise ValueError("Lambda: `mask` is not supported; use supports_masking layers.")
        self.function = function
        self.output_shape = tuple(output_shape) if output_shape is not None else None
        self.arguments = dict(arguments or {})

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def compute_output_spec(self, inputs: Any, **kwargs: Any) -> Any:
        if self.output_shape is not None:
            from katman.symbolic import KerasTensor

            return KerasTensor((inputs.shape[0], *self.output_shape), inputs.dtype)
        return super().compute_output_spec(inputs, **kwargs)

    def get_config(self) -> dict[str, Any]:
        for kind in FUNCTION_KINDS:
            try:
                function = {"kind": kind, **serialization.serialize(self.function, kind)}
                break
            except ValueError:
                continue
        else:
            raise ValueError(
                f"Lambda layer {self.name!r}: its function "
                f"{getattr(self.function, '__qualname__', self.function)!r} is not registered, "
                "and katman never stores code in model files. Decorate it with "
                "@katman.saving.register_serializable(), or use a built-in op or activation."
            )
        return {
            **super().get_config(),
            "function": function,
            "output_shape": list(self.output_shape) if self.output_shape else None,
            "arguments": self.arguments,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Lambda:
        config = dict(config)
        spec = config.pop("function", None)
        if not isinstance(spec, dict) or spec.get("kind") not in FUNCTION_KINDS:
            raise ValueError(
                f"Lambda: 'function' must name a registered function of kind "
                f"{' / '.join(FUNCTION_KINDS)}, got {spec!r}."
            )
        kind = spec.pop("kind")
        function = serialization.deserialize(spec, kind, custom_objects=custom_objects)
        if not callable(function):
            raise ValueError(f"Lambda: {spec!r} is not a function.")
        return cls(function, **config)
