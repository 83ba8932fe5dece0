"""Functional models: a graph of layers read from symbolic tensors, from inputs to outputs."""

from __future__ import annotations

from typing import Any

from katman.errors import ShapeError
from katman.layers.input_layer import InputLayer
from katman.layers.layer import Layer
from katman.layers.node import Node, flatten, pack_like
from katman.models.model import Model
from katman.symbolic import KerasTensor


class Functional(Model):
    """``Model(inputs, outputs)``: the layers between ``inputs`` (from ``katman.Input``) and
    ``outputs``, run in dependency order. Inputs and outputs may be single tensors, lists or
    dicts; layers may be shared and the graph may branch and merge (skip connections).

    Raises:
        ValueError: an output does not depend on the given inputs, or an input is not a
            ``katman.Input``.
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._inputs_struct = _as_structure(inputs)
        self._outputs_struct = _as_structure(outputs)
        self._input_tensors = flatten(self._inputs_struct)
        self._output_tensors = flatten(self._outputs_struct)
        for tensor in self._input_tensors:
            history = getattr(tensor, "_keras_history", None)
            if not isinstance(tensor, KerasTensor) or not isinstance(
                history and history[0], InputLayer
            ):
                raise ValueError(
                    f"Model {self.name!r}: every input must be a tensor made by katman.Input(); "
                    f"got {tensor!r}."
                )
        self._nodes = self._trace()
        self._steps = [
            _Step(node) for node in self._nodes if not isinstance(node.layer, InputLayer)
        ]
        self._graph_layers: list[Layer] = []
        for node in self._nodes:
            if all(node.layer is not known for known in self._graph_layers):
                self._graph_layers.append(node.layer)
        for layer in self._graph_layers:
            self._track_layer(layer, layer.name, native=True)
        self._build_shapes = [t.shape for t in self._input_tensors]
        self.built = True

    def _trace(self) -> list[Node]:
        """The nodes from the inputs to the outputs, each after the nodes it depends on."""
        ordered: list[Node] = []
        done: set[int] = set()
        active: set[int] = set()
        inputs = {id(t) for t in self._input_tensors}

        def visit(tensor: KerasTensor) -> None:
            history = getattr(tensor, "_keras_history", None)
            if history is None:
                raise ValueError(
                    f"Model {self.name!r}: output {tensor!r} was not computed by layers from the "
                    "model's inputs (only katman layers called on katman.Input tensors can be "
                    "traced)."
                )
            layer, index, _ = history
            node = layer._inbound_nodes[index]
            if id(node) in done:
                return
            if isinstance(layer, InputLayer) and id(tensor) not in inputs:
                raise ValueError(
                    f"Model {self.name!r}: the graph needs input {layer.name!r}, which is not "
                    "among the model's inputs."
                )
            if id(node) in active:
                raise ValueError(f"Model {self.name!r}: the layer graph has a cycle.")
            active.add(id(node))
            for parent_tensor in node.input_tensors:
                visit(parent_tensor)
            active.discard(id(node))
            done.add(id(node))
            ordered.append(node)

        for tensor in self._input_tensors:
            visit(tensor)
        for tensor in self._output_tensors:
            visit(tensor)
        # Layers at the same distance from the inputs run (and are listed) side by side.
        depth: dict[int, int] = {}
        for node in ordered:
            depth[id(node)] = 1 + max((depth[id(p)] for p in node.parent_nodes), default=-1)
        return sorted(ordered, key=lambda node: depth[id(node)])

    @property
    def layers(self) -> list[Layer]:
        """The model's layers in graph order, its InputLayers first."""
        return list(self._graph_layers)

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._input_tensors)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._output_tensors)

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history[0].name for t in self._input_tensors]

    @property
    def output_names(self) -> list[str]:
        if isinstance(self._outputs_struct, dict):
            return sorted(self._outputs_struct, key=str)
        return [t._keras_history[0].name for t in self._output_tensors]

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        values = self._bind_inputs(inputs)
        masks: dict[int, Any] = {}  # by output tensor id; empty unless a layer makes a mask
        for step in self._steps:
            layer = step.layer
            args, kwargs = step.arguments(values)
            input_masks = [masks.get(i) for i in step.input_ids] if masks else None
            masked = input_masks is not None and any(m is not None for m in input_masks)
            if masked and layer._call_takes_mask:
                kwargs.setdefault("mask", input_masks[0] if len(input_masks) == 1 else input_masks)
            if training is not None and layer._call_takes_training:
                kwargs.setdefault("training", training)
            outputs = layer(*args, **kwargs)
            if masked or step.computes_mask:
                if input_masks is None:
                    input_masks = [None] * len(step.input_ids)
                previous = input_masks[0] if len(input_masks) == 1 else input_masks
                output_mask = layer.compute_mask(args[0] if args else None, previous)
                for i in step.output_ids:
                    masks[i] = output_mask
            if step.single_output and not isinstance(outputs, (list, tuple, dict)):
                values[step.output_ids[0]] = outputs
            else:
                for i, value in zip(step.output_ids, flatten(outputs), strict=True):
                    values[i] = value
        return pack_like(self._outputs_struct, [values[id(t)] for t in self._output_tensors])

    def _bind_inputs(self, inputs: Any) -> dict[int, Any]:
        if isinstance(inputs, dict) and not isinstance(self._inputs_struct, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f"Model {self.name!r}: the input dict lacks {missing}; expected keys "
                    f"{names}, got {sorted(inputs)}."
                )
            flat = [inputs[n] for n in names]
        elif isinstance(self._inputs_struct, dict):
            if not isinstance(inputs, dict):
                raise ValueError(
                    f"Model {self.name!r} takes a dict of inputs with keys "
                    f"{sorted(self._inputs_struct)}; got {type(inputs).__name__}."
                )
            missing = [k for k in self._inputs_struct if k not in inputs]
            if missing:
                raise ValueError(
                    f"Model {self.name!r}: the input dict lacks {missing}; expected keys "
                    f"{sorted(self._inputs_struct)}."
                )
            flat = flatten({k: inputs[k] for k in self._inputs_struct})
        else:
            flat = flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != len(self._input_tensors):
            raise ValueError(
                f"Model {self.name!r} expects {len(self._input_tensors)} input(s) "
                f"({', '.join(self.input_names)}), got {len(flat)}."
            )
        values: dict[int, Any] = {}
        for tensor, value in zip(self._input_tensors, flat, strict=True):
            shape = getattr(value, "shape", None)
            if shape is not None:
                check_input(self, tensor, tuple(shape))
            values[id(tensor)] = value
        return values

    def compute_output_spec(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        return self.call(inputs)

    def get_config(self) -> dict[str, Any]:
        from katman.models.graph_config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Functional:
        from katman.models.graph_config import functional_from_config

        return functional_from_config(cls, config, custom_objects)


class _Step:
    """One layer call of the graph, ready to run: where its arguments come from and where
    its outputs go, worked out once rather than at every call of the model."""

    __slots__ = (
        "args",
        "computes_mask",
        "direct",
        "input_ids",
        "kwargs",
        "layer",
        "output_ids",
        "single_output",
    )

    def __init__(self, node: Node) -> None:
        self.layer = node.layer
        self.args, self.kwargs = node.args, node.kwargs
        self.input_ids = [id(t) for t in node.input_tensors]
        self.output_ids = [id(t) for t in node.output_tensors]
        # The usual call, ``layer(x)`` or ``layer(x, y)``: tensors as the positional arguments
        # and none among the keyword ones, so each argument is a lookup of its tensor's value.
        self.direct = all(isinstance(a, KerasTensor) for a in node.args) and not any(
            isinstance(t, KerasTensor) for t in flatten(node.kwargs)
        )
        self.single_output = len(self.output_ids) == 1
        self.computes_mask = type(node.layer).compute_mask is not Layer.compute_mask

    def arguments(self, values: dict[int, Any]) -> tuple[tuple, dict[str, Any]]:
        """The call's arguments with each KerasTensor replaced by its value (a fresh kwargs
        dict, which the caller may add to)."""
        if self.direct:
            return tuple([values[i] for i in self.input_ids]), dict(self.kwargs)
        return _substitute(self.args, values), _substitute(self.kwargs, values)


def _as_structure(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _substitute(structure: Any, values: dict[int, Any]) -> Any:
    if isinstance(structure, KerasTensor):
        return values[id(structure)]
    if isinstance(structure, list):
        return [_substitute(v, values) for v in structure]
    if isinstance(structure, tuple):
        return tuple(_substitute(v, values) for v in structure)
    if isinstance(structure, dict):
        return {k: _substitute(v, values) for k, v in structure.items()}
    return structure


def check_input(model: Model, tensor: KerasTensor, shape: tuple) -> None:
    expected = tensor.shape
    if len(shape) != len(expected) or any(
        e is not None and s is not None and e != s for e, s in zip(expected, shape, strict=True)
    ):
        raise ShapeError(
            f"Input {tensor._keras_history[0].name!r} of model {model.name!r} is incompatible: "
            f"expected shape {expected}, got {shape}."
        )
