"""A functional model's graph as JSON data, and the model rebuilt from it.

Each layer is serialized through the registry; each call of a layer in the graph (a node) is
recorded with its arguments, where tensors are references ``[layer name, node index, tensor
index]``. Rebuilding deserializes the layers and replays the calls on ``katman.Input``s.
"""

from __future__ import annotations

from typing import Any

from katman.layers.input_layer import InputLayer
from katman.layers.node import Node
from katman.symbolic import KerasTensor

TENSOR = "__tensor__"


def functional_config(model: Any) -> dict[str, Any]:
    from katman import layers as layers_namespace

    model_nodes = {id(node) for node in model._nodes}

    def node_index(layer: Any, node: Node) -> int:
        own = [n for n in layer._inbound_nodes if id(n) in model_nodes]
        return next(i for i, n in enumerate(own) if n is node)

    def reference(tensor: KerasTensor) -> list[Any]:
        layer, index, position = tensor._keras_history
        return [layer.name, node_index(layer, layer._inbound_nodes[index]), position]

    def encode(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return {TENSOR: reference(value)}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        return value

    layer_configs = []
    for layer in model.layers:
        config = layers_namespace.serialize(layer)
        config["name"] = layer.name
        nodes = [n for n in layer._inbound_nodes if id(n) in model_nodes]
        config["inbound_nodes"] = [
            {"args": encode(list(n.args)), "kwargs": encode(n.kwargs)}
            for n in nodes
            if not isinstance(layer, InputLayer)
        ]
        layer_configs.append(config)

    def structure(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return reference(value)
        if isinstance(value, dict):
            return {k: structure(v) for k, v in value.items()}
        return [structure(v) for v in value]

    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layer_configs,
        "input_layers": structure(model._inputs_struct),
        "output_layers": structure(model._outputs_struct),
    }


def functional_from_config(cls: type, config: dict[str, Any], custom_objects: Any = None) -> Any:
    from katman import layers as layers_namespace

    try:
        layer_configs = list(config["layers"])
        inputs_spec, outputs_spec = config["input_layers"], config["output_layers"]
    except (KeyError, TypeError) as err:
        raise ValueError(
            f"A functional model config needs 'layers', 'input_layers' and "
            f"'output_layers'; missing {err}."
        ) from None
    created: dict[str, Any] = {}
    outputs_of: dict[tuple[str, int], list[KerasTensor]] = {}
    pending: list[tuple[str, int, dict]] = []
    for layer_config in layer_configs:
        if not isinstance(layer_config, dict) or not isinstance(
            layer_config.get("config", {}), dict
        ):
            raise ValueError(f"Each layer of a model config must be an object: {layer_config!r}.")
        name = layer_config.get("name") or layer_config.get("config", {}).get("name")
        if name in created:
            raise ValueError(f"The model config has two layers named {name!r}.")
        layer = layers_namespace.deserialize(
            {k: v for k, v in layer_config.items() if k not in ("inbound_nodes", "name")},
            custom_objects=custom_objects,
        )
        created[name] = layer
        if isinstance(layer, InputLayer):
            outputs_of[(name, 0)] = [layer.output]
        for index, node in enumerate(layer_config.get("inbound_nodes", [])):
            pending.append((name, index, node))

    def decode(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {TENSOR}:
            layer_name, index, position = value[TENSOR]
            return outputs_of[(layer_name, index)][position]
        if isinstance(value, list):
            return [decode(v) for v in value]
        if isinstance(value, dict):
            return {k: decode(v) for k, v in value.items()}
        return value

    while pending:
        progressed = False
        for item in list(pending):
            name, index, node = item
            try:
                args, kwargs = decode(node.get("args", [])), decode(node.get("kwargs", {}))
            except KeyError:
                continue  # an input is made by a node not replayed yet
            result = created[name](*args, **kwargs)
            outputs_of[(name, index)] = [t for t in _leaves(result) if isinstance(t, KerasTensor)]
            pending.remove(item)
            progressed = True
        if not progressed:
            raise ValueError(
                "The model config's layer graph cannot be rebuilt: some layers' "
                "inputs are never produced."
            )

    def resolve(spec: Any) -> Any:
        if isinstance(spec, dict):
            return {k: resolve(v) for k, v in spec.items()}
        if not isinstance(spec, list) or not spec:
            raise ValueError(
                f"The model config's inputs and outputs must be [layer, node, index] "
                f"references (in lists or dicts); got {spec!r}."
            )
        if len(spec) == 3 and isinstance(spec[0], str) and isinstance(spec[1], int):
            layer_name, index, position = spec
            produced = outputs_of.get((layer_name, index))
            if (
                produced is None
                or not isinstance(position, int)
                or not (0 <= position < len(produced))
            ):
                raise ValueError(f"The model config refers to unknown tensor {spec!r}.")
            return produced[position]
        return [resolve(s) for s in spec]

    return cls(
        resolve(inputs_spec),
        resolve(outputs_spec),
        name=config.get("name"),
        trainable=config.get("trainable", True),
    )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for k in sorted(value, key=str) for leaf in _leaves(value[k])]
    return [value]
