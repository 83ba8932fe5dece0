"""Nodes: the record of a layer called on symbolic tensors, from which functional models
read their graph; and small helpers for nested structures of tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from katman.symbolic import KerasTensor


class Node:
    """One call of ``layer`` on KerasTensors: its arguments and its outputs.

    Each output KerasTensor gets ``_keras_history = (layer, node_index, tensor_index)``.
    """

    def __init__(self, layer: Any, args: tuple, kwargs: dict, outputs: Any) -> None:
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.input_tensors = [t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
        self.output_tensors = [t for t in flatten(outputs) if isinstance(t, KerasTensor)]
        index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for position, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, index, position)

    @property
    def parent_nodes(self) -> list[Node]:
        """The nodes that produced this node's inputs."""
        parents = []
        for tensor in self.input_tensors:
            history = getattr(tensor, "_keras_history", None)
            if history is not None:
                layer, index, _ = history
                parents.append(layer._inbound_nodes[index])
        return parents


def flatten(structure: Any) -> list[Any]:
    """The leaves of nested lists, tuples and dicts (dict values in key order)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure, key=str) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(
    function: Callable[[Any], Any], structure: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """``structure`` with ``function`` applied to each leaf (None leaves stay None)."""
    if is_leaf is not None and is_leaf(structure):
        return function(structure)
    if isinstance(structure, list):
        return [map_structure(function, item, is_leaf) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(function, item, is_leaf) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(function, item, is_leaf) for key, item in structure.items()}
    return None if structure is None else function(structure)


def pack_like(structure: Any, leaves: list[Any]) -> Any:
    """``leaves`` (in :func:`flatten` order) arranged as ``structure``."""
    iterator = iter(leaves)

    def build(node: Any) -> Any:
        if isinstance(node, (list, tuple)):
            return type(node)(build(item) for item in node)
        if isinstance(node, dict):
            return {key: build(node[key]) for key in sorted(node, key=str)}
        return next(iterator)

    return build(structure)
